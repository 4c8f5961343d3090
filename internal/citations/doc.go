// Package citations holds no code: its test keeps what the repository cites openable from a clone.
// Comments may name the project's own files (docs/*.md and the rest of the tree), primary sources
// (Checkbox's OpenAPI operations and schemas, CommerceML elements, 1C modules and procedures) and
// public addresses, never notes that live outside the repository. It imports nothing of obmin.
package citations

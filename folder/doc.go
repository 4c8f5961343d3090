// Package folder is how obmin reaches the folders it shares with BAS: Source, the folder BAS exports
// into (obmin only lists and reads it), and Target, the folder obmin delivers the orders file into. It
// holds the interfaces and their local implementation (LocalDir, LocalTarget, for local, shared and
// mounted folders); package sftpdir implements the same over SFTP, and both pass one conformance suite
// (package folder/foldertest).
//
// It imports the pure package drop (which files a folder offers) and internal/atomicfile.
package folder

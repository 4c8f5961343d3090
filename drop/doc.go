// Package drop holds the rules of what a BAS export ("a drop") is, written once for everything that
// needs them: the watcher of BAS's folder (package watch), the service that applies a drop (package
// exchange) and `obmin inspect` (package inspect).
//
//   - which files a folder offers (Wanted: *.xml and *.zip, no Hidden or temporary files), which are in
//     no drop (InPictures: import_files/ holds pictures) and which folders are not looked into
//     (SkippedFolder);
//   - which entries of a zip join the drop (ZipEntry) and what condemns an archive (ZipRefusal);
//   - the order the files are applied in (Order, SortNames) and the kind each one is filed under
//     (Files.Add);
//   - when a file is whole (JudgeFile: the closing tag of the root, a zip's central directory) and when
//     an unfinished one is given up on (GivenUp).
//
// It is pure: it reads only what it is handed (an io.Reader, names, sizes and times) and imports
// nothing of obmin but the format package commerceml and internal/safezip.
package drop

package folder_test

import (
	"path/filepath"
	"testing"

	"obmin/folder"
	"obmin/folder/foldertest"
)

// TestConformance runs the conformance suite against the local folder; package sftpdir runs the same
// suite over SFTP.
func TestConformance(t *testing.T) {
	foldertest.Run(t, func(t *testing.T) *foldertest.Backend {
		dir := t.TempDir()
		return &foldertest.Backend{
			Name: "local", Dir: dir,
			Source: folder.LocalDir(dir), Target: folder.LocalTarget(filepath.Join(dir, "out")),
			SourceAt: folder.LocalDir,
		}
	})
}

package config

// SFTP says that BAS's exchange folder is on an SFTP server rather than a local or mounted folder.
// Nil (no bas.sftp section) means local folders.
type SFTP struct {
	Address string `yaml:"address"` // host:port
}

// validateSFTP checks the bas.sftp section; bad reports a problem under a key.
func (c *Config) validateSFTP(bad func(key, format string, a ...any)) {}

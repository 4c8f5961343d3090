package config

// HTTP is obmin's own HTTP server: the 1C site-exchange endpoint, the Checkbox webhook receiver,
// health and status. Off when Listen is empty.
type HTTP struct {
	Listen string `yaml:"listen"` // e.g. "127.0.0.1:8780"; empty = no server
}

// validateHTTP checks the http section; bad reports a problem under a key.
func (c *Config) validateHTTP(bad func(key, format string, a ...any)) {}

// Package winservice is obmin as a Windows service: registering it with the Service Control Manager
// (install, after checking that only administrators may change what it runs: acl.go), removing, starting,
// stopping and querying it (Control), running `obmin run` under the SCM (RunAsService) and sending
// errors and the start and stop lines to the Windows Event Log (LogHooks). docs/service.md is the user's
// guide; cmd/obmin parses the command line.
//
// It imports internal/config (the paths install checks), exchange (the name of the lifecycle log
// field), logrus and golang.org/x/sys/windows; nothing of it runs away from Windows but what its tests
// check.
package winservice

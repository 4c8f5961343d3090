// Package watch finds complete BAS exports in BAS's folder. BAS cannot write through a temporary name
// and says nothing when it is done, so the Watcher polls the folder (file-system events only make it look
// sooner), waits until a folder's files stop changing, and judges each file whole with the drop rules
// (package drop); an export that stays unfinished is given up on and recorded in failed/ of the spool.
//
// It imports the pure package drop, folder (the Source it watches), the spool (to record what it gives up
// on), internal/quietlog and fsnotify; never the state store or the jobs.
package watch

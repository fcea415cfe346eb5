package recordings

import (
	"io/fs"
	"syscall"
)

// changeStamp returns a file's inode and change time (nanoseconds), which a rewrite changes
// even when it puts the modification time back.
func changeStamp(fi fs.FileInfo) (ino uint64, ctime int64) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Ino, st.Ctim.Nano()
	}
	return 0, 0
}

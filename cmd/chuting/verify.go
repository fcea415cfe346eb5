package main

import (
	"archive/zip"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	iofs "io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/chuting/chuting/recordings"
)

// `chuting verify DIR` checks a hearing's recording folder, or the package the archive
// exports (GET /api/v1/recordings/{hearing}/export), against its signed manifest (#31):
// every file's SHA-256 and size, the hash chain, the signature, and that no file was added or
// removed. It needs neither the server nor the store, only the folder or package and the
// court's public key, so a party's expert can run it on a copy.

const verifyUsage = `usage: chuting verify [--key FILE] DIR|PACKAGE.zip

Checks the recording of one hearing, DIR (<data>/recordings/<hearing ID>) or the package
downloaded from the archive (recording-<hearing ID>.zip), against its signed manifest.json:
the signature, the hash chain, and each file's SHA-256 and size; names every file altered,
truncated, missing or added. Prints the manifest's root hash, the integrity check value
(完整性校验值) shown to the parties.
校验一次庭审录像文件夹（或从档案下载的录像包）与其签名清单是否一致，并指出被修改、截短、缺失或新增的文件。

Exit status: 0 intact, 1 a problem found, 2 usage error.

flags:
`

// runVerify runs `chuting verify` and returns its exit status: 0 when the folder is intact,
// 1 when anything is wrong with it, 2 when the command line is.
func runVerify(args []string, io *stdio) int {
	fs := flag.NewFlagSet("chuting verify", flag.ContinueOnError)
	fs.SetOutput(io.err)
	keyFile := fs.String("key", "", "the court's public key file (base64, hex or raw Ed25519); default: "+
		"DIR/../../keys/"+recordingPubFile+" if present, else the key inside the manifest (proves less)")
	fs.Usage = func() {
		fmt.Fprint(io.err, verifyUsage)
		fs.PrintDefaults()
	}
	// Flags may come before or after DIR.
	var dirs []string
	for {
		if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
			return 0
		} else if err != nil {
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		dirs = append(dirs, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(dirs) != 1 {
		fmt.Fprintf(io.err, "chuting verify: want one hearing folder or package, got %d\n\n", len(dirs))
		fs.Usage()
		return 2
	}
	dir := dirs[0]
	fi, err := os.Stat(dir)
	var folder iofs.FS
	defaultKey := ""
	switch {
	case err == nil && fi.IsDir():
		folder = os.DirFS(dir)
		if abs, err := filepath.Abs(dir); err == nil {
			defaultKey = filepath.Join(filepath.Dir(filepath.Dir(abs)), "keys", recordingPubFile)
		}
	case err == nil && fi.Mode().IsRegular():
		zr, err := zip.OpenReader(dir)
		if err != nil {
			fmt.Fprintf(io.err, "chuting verify: %s is not a recording package (不是录像包): %v\n", dir, err)
			return 2
		}
		defer zr.Close()
		folder = packageFolder(zr)
	default:
		fmt.Fprintf(io.err, "chuting verify: %s is not a folder (文件夹不存在)\n", dir)
		return 2
	}

	pub, source, err := verifyKey(defaultKey, *keyFile)
	if err != nil {
		fmt.Fprintf(io.err, "chuting verify: public key: %v\n", err)
		return 2
	}
	if pub == nil {
		fmt.Fprintf(io.err, `
WARNING 警告: no public key given (--key) and none found (%s).
The signature is checked against the key written inside the manifest itself, which only proves
that the folder is self-consistent: anyone who altered the files could have signed a new
manifest with a key of their own. Get the court's public key (%s) and pass it with --key.
未提供公钥：仅用清单自带的公钥校验，只能证明文件夹自洽，不能证明由法院签名。请向法院索取公钥并用 --key 指定。

`, source, recordingPubFile)
	}

	if pub != nil && *keyFile == "" {
		// The key beside a data folder is the server's own; a copy can come with a key of the
		// copier's, laid out the same way.
		fmt.Fprintf(io.err, `NOTE: the public key was read from beside the folder (%s), which proves the court's
signature only if that file is the court's key: for a copy from elsewhere, pass the court's
published key with --key.
注意：公钥取自文件夹旁的 %s；仅当该文件确为法院公钥时才能证明法院签名。校验他处复制的文件夹请用 --key 指定法院公布的公钥。

`, source, source)
	}
	rep, err := recordings.VerifyFS(folder, pub)
	if err != nil {
		// No manifest to check against: that is the problem to report.
		fmt.Fprintf(io.out, "FAILED 校验失败: %s\n  manifest: %v\n", dir, err)
		return 1
	}
	if !rep.OK() {
		fmt.Fprintf(io.out, "FAILED 校验失败: hearing %s: %d problem(s) (发现 %d 处问题)\n", rep.HearingID,
			len(rep.Problems), len(rep.Problems))
		for _, p := range rep.Problems {
			fmt.Fprintf(io.out, "  %s\n", p)
		}
		return 1
	}
	fmt.Fprintf(io.out, "OK 校验通过: hearing %s: %d files intact, manifest signed by %s\n", rep.HearingID, rep.Files,
		keyDescription(pub, source))
	if rep.Interrupted {
		at := ""
		if !rep.InterruptedAt.IsZero() {
			at = " at " + rep.InterruptedAt.UTC().Format(time.RFC3339Nano)
		}
		fmt.Fprintf(io.out, "interrupted 录像曾中断%s: the server stopped mid-hearing; every file is kept as found\n", at)
	}
	fmt.Fprintf(io.out, "integrity check value 完整性校验值: %s\n", rep.RootHash)
	return 0
}

// packageFolder returns the hearing's folder inside an exported package: its one top-level
// folder holding a manifest.json, or the package's root.
func packageFolder(zr *zip.ReadCloser) iofs.FS {
	entries, err := iofs.ReadDir(zr, ".")
	if err == nil && len(entries) == 1 && entries[0].IsDir() {
		if sub, err := iofs.Sub(zr, entries[0].Name()); err == nil {
			return sub
		}
	}
	return zr
}

// verifyKey reads the public key to check against: file, or else defaultFile (the data
// folder's own beside a recording kept in place, DIR/../../keys). It returns nil, and the path
// it looked at, when there is none and file was not given.
func verifyKey(defaultFile, file string) (ed25519.PublicKey, string, error) {
	if file == "" {
		file = defaultFile
		if file == "" {
			return nil, "a package carries none", nil
		}
		if _, err := os.Stat(file); errors.Is(err, iofs.ErrNotExist) {
			return nil, file, nil
		}
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, file, err
	}
	pub, err := recordings.ParsePublicKey(b)
	if err != nil {
		return nil, file, fmt.Errorf("%s: %w", file, err)
	}
	return pub, file, nil
}

func keyDescription(pub ed25519.PublicKey, source string) string {
	if pub == nil {
		return "the key inside the manifest (self-consistency only 仅自洽)"
	}
	return base64.StdEncoding.EncodeToString(pub) + " (" + source + ")"
}

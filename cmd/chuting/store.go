package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/bbolt"
	"github.com/chuting/chuting/redis"
)

// dbFile is the embedded store's file name inside the data folder.
const dbFile = "chuting.db"

// openStore opens the store the configuration names: the embedded bbolt file in the data
// folder by default, or Redis for several nodes.
func openStore(ctx context.Context, c *Config, logger *slog.Logger) (chuting.Store, error) {
	if c.Store == "" {
		if err := os.MkdirAll(c.Data, 0o700); err != nil {
			return nil, fmt.Errorf("data folder: %w", err)
		}
		s, err := bbolt.Open(filepath.Join(c.Data, dbFile), bbolt.Options{Timeout: 2 * time.Second})
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	s, err := redis.Open(ctx, c.Store, redis.Options{AllowVolatile: c.AllowVolatile})
	if err != nil {
		return nil, err
	}
	if p := s.Persistence(); p != "aof" && p != "aof+rdb" {
		logger.Warn("redis has no append-only file: writes since the last snapshot are lost if redis crashes",
			"persistence", p)
	}
	return s, nil
}

func storeName(c *Config) string {
	if c.Store == "" {
		return "embedded " + filepath.Join(c.Data, dbFile)
	}
	return "redis"
}

// version returns the module version and VCS revision the binary was built from, if known.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := info.Main.Version
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " " + s.Value[:12]
		}
	}
	return v
}

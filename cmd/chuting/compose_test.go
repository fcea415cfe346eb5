package main

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

// The deployment files live at the repository root, two levels above this package. No Docker
// engine is needed: docker-compose.yml is loaded with compose-go, the loader `docker compose`
// itself uses, so schema errors and dangling depends_on fail here, and the Dockerfile is read
// as text. Both are then checked against the flags of `chuting serve`, so that renaming a flag
// breaks this test rather than a deployment.

// Services and defaults the checks rely on.
const (
	composeServer    = "chuting" // the service running `chuting serve`
	composeRedis     = "redis"   // the service CHUTING_STORE must point at
	composeRedisDir  = "/data"   // WORKDIR of the official redis image, where `dir ./` writes
	composeRedisPort = "6379"    // default `port` of redis-server
)

func TestCompose(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		p := MustLoadCompose(t, filepath.Join(deployRoot(t), "docker-compose.yml"))
		for _, problem := range checkCompose(p) {
			t.Errorf("docker-compose.yml: %s", problem)
		}
	})

	// Each case breaks the loaded project in one way and names the problem the checks must
	// report, so that every check is shown to be able to fail.
	redisConf := func(t *testing.T, p *types.Project, conf string) {
		t.Helper()
		file := filepath.Join(t.TempDir(), "redis.conf")
		if err := os.WriteFile(file, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		editComposeService(p, composeRedis, func(s *types.ServiceConfig) {
			s.Command = types.ShellCommand{"redis-server", "/usr/local/etc/redis/redis.conf"}
			s.Volumes = append(s.Volumes, types.ServiceVolumeConfig{
				Type: types.VolumeTypeBind, Source: file, Target: "/usr/local/etc/redis/redis.conf", ReadOnly: true,
			})
		})
	}
	for _, tt := range []struct {
		name   string
		mutate func(t *testing.T, p *types.Project)
		want   string // substring of one reported problem; "" = no problem
	}{
		{"ErrNoServer", func(t *testing.T, p *types.Project) { delete(p.Services, composeServer) }, `no service "chuting"`},
		{"ErrNoRedis", func(t *testing.T, p *types.Project) { delete(p.Services, composeRedis) }, `no service "redis"`},
		{"ErrNoDependsOn", func(t *testing.T, p *types.Project) {
			editComposeService(p, composeServer, func(s *types.ServiceConfig) { s.DependsOn = nil })
		}, "does not depend on redis"},
		{"ErrDependsOnStarted", func(t *testing.T, p *types.Project) {
			editComposeService(p, composeServer, func(s *types.ServiceConfig) {
				s.DependsOn = types.DependsOnConfig{composeRedis: {Condition: types.ServiceConditionStarted}}
			})
		}, "service_healthy"},
		{"ErrUnknownEnv", func(t *testing.T, p *types.Project) { setComposeEnv(p, "CHUTING_LISTEN", "0.0.0.0:8080") }, "CHUTING_LISTEN is not the variable of any"},
		{"ErrEnvDoesNotParse", func(t *testing.T, p *types.Project) { setComposeEnv(p, "CHUTING_SESSION_TTL", "forever") }, "CHUTING_SESSION_TTL"},
		{"ErrEnvInvalid", func(t *testing.T, p *types.Project) { setComposeEnv(p, "CHUTING_LOG_FORMAT", "xml") }, "--log-format"},
		{"ErrStoreUnset", func(t *testing.T, p *types.Project) { setComposeEnv(p, "CHUTING_STORE", "") }, "CHUTING_STORE is not set"},
		{"ErrStoreWrongHost", func(t *testing.T, p *types.Project) { setComposeEnv(p, "CHUTING_STORE", "redis://localhost:6379/0") }, `host "localhost" is not the service "redis"`},
		{"ErrStoreWrongPort", func(t *testing.T, p *types.Project) { setComposeEnv(p, "CHUTING_STORE", "redis://redis:6380/0") }, "port 6380"},
		{"ErrAddrLoopback", func(t *testing.T, p *types.Project) { setComposeEnv(p, "CHUTING_ADDR", "127.0.0.1:8080") }, "loopback"},
		{"ErrAddrUnset", func(t *testing.T, p *types.Project) {
			editComposeService(p, composeServer, func(s *types.ServiceConfig) { delete(s.Environment, "CHUTING_ADDR") })
		}, "CHUTING_ADDR is not set"},
		{"ErrAddrPortNotPublished", func(t *testing.T, p *types.Project) { setComposeEnv(p, "CHUTING_ADDR", "0.0.0.0:9090") }, "container port 9090 is not published"},
		{"ErrNoPorts", func(t *testing.T, p *types.Project) {
			editComposeService(p, composeServer, func(s *types.ServiceConfig) { s.Ports = nil })
		}, "is not published"},
		{"ErrPortWithoutHostPort", func(t *testing.T, p *types.Project) {
			editComposeService(p, composeServer, func(s *types.ServiceConfig) {
				for i := range s.Ports {
					s.Ports[i].Published = ""
				}
			})
		}, "is not published"},
		{"ErrDataUnset", func(t *testing.T, p *types.Project) {
			editComposeService(p, composeServer, func(s *types.ServiceConfig) { delete(s.Environment, "CHUTING_DATA") })
		}, "CHUTING_DATA is not set"},
		{"ErrDataNotMounted", func(t *testing.T, p *types.Project) {
			editComposeService(p, composeServer, func(s *types.ServiceConfig) { s.Volumes = nil })
		}, "CHUTING_DATA=/data is not the target of a named volume"},
		{"ErrDataBindMount", func(t *testing.T, p *types.Project) {
			editComposeService(p, composeServer, func(s *types.ServiceConfig) {
				for i := range s.Volumes {
					s.Volumes[i].Type = types.VolumeTypeBind
				}
			})
		}, "CHUTING_DATA=/data is not the target of a named volume"},
		{"ErrDataVolumeUndeclared", func(t *testing.T, p *types.Project) { delete(p.Volumes, "chuting-data") }, "CHUTING_DATA=/data is not the target of a named volume"},
		{"ErrRedisDefaultCommand", func(t *testing.T, p *types.Project) {
			editComposeService(p, composeRedis, func(s *types.ServiceConfig) { s.Command = nil })
		}, "appendonly is off"},
		{"ErrRedisAppendonlyNo", func(t *testing.T, p *types.Project) {
			editComposeService(p, composeRedis, func(s *types.ServiceConfig) {
				s.Command = types.ShellCommand{"redis-server", "--appendonly", "no", "--save", ""}
			})
		}, "appendonly is off"},
		{"ErrRedisNotRedisServer", func(t *testing.T, p *types.Project) {
			editComposeService(p, composeRedis, func(s *types.ServiceConfig) {
				s.Command = types.ShellCommand{"sh", "-c", "redis-server --appendonly yes"}
			})
		}, "cannot read its settings"},
		{"OKRedisArgsOnly", func(t *testing.T, p *types.Project) {
			// The image's entrypoint prepends redis-server to arguments that start with "-".
			editComposeService(p, composeRedis, func(s *types.ServiceConfig) { s.Command = types.ShellCommand{"--appendonly", "yes"} })
		}, ""},
		{"OKRedisConfigFile", func(t *testing.T, p *types.Project) { redisConf(t, p, "# test\nappendonly yes\ndir /data\n") }, ""},
		{"ErrRedisConfigFileAppendonlyNo", func(t *testing.T, p *types.Project) { redisConf(t, p, "appendonly no\n") }, "appendonly is off"},
		{"ErrRedisNoHealthcheck", func(t *testing.T, p *types.Project) {
			editComposeService(p, composeRedis, func(s *types.ServiceConfig) { s.HealthCheck = nil })
		}, "no healthcheck"},
		{"ErrRedisDataNotMounted", func(t *testing.T, p *types.Project) {
			editComposeService(p, composeRedis, func(s *types.ServiceConfig) { s.Volumes = nil })
		}, "redis data dir /data is not the target of a named volume"},
		{"ErrRedisDirMoved", func(t *testing.T, p *types.Project) {
			editComposeService(p, composeRedis, func(s *types.ServiceConfig) {
				s.Command = append(s.Command, "--dir", "/var/lib/redis")
			})
		}, "redis data dir /var/lib/redis is not the target of a named volume"},
		{"ErrRedisPortMoved", func(t *testing.T, p *types.Project) {
			editComposeService(p, composeRedis, func(s *types.ServiceConfig) { s.Command = append(s.Command, "--port", "6380") })
		}, "port 6379"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := MustLoadCompose(t, filepath.Join(deployRoot(t), "docker-compose.yml"))
			tt.mutate(t, p)
			problems := checkCompose(p)
			if tt.want == "" {
				for _, problem := range problems {
					t.Errorf("unexpected problem: %s", problem)
				}
				return
			}
			if !slices.ContainsFunc(problems, func(s string) bool { return strings.Contains(s, tt.want) }) {
				t.Errorf("no problem mentions %q; got %q", tt.want, problems)
			}
		})
	}
}

func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(deployRoot(t), "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	dockerfile := string(b)
	t.Run("OK", func(t *testing.T) {
		for _, problem := range checkDockerfile(dockerfile) {
			t.Errorf("Dockerfile: %s", problem)
		}
	})

	// Each case rewrites the real Dockerfile with regexps (pairs of pattern and replacement) and
	// names the problem the checks must report. A pattern that no longer matches fails the case,
	// so the cases follow the file.
	for _, tt := range []struct {
		name  string
		edits [][2]string
		want  string // substring of one reported problem
	}{
		{"ErrOneStage", [][2]string{{`(?m)^FROM golang.*$`, ""}}, "want a multi-stage build"},
		{"ErrCgo", [][2]string{{`CGO_ENABLED=0`, "CGO_ENABLED=1"}}, "CGO_ENABLED=0"},
		{"ErrNoUser", [][2]string{{`(?m)^USER .*$`, ""}}, "no USER"},
		{"ErrUserRoot", [][2]string{{`(?m)^USER .*$`, "USER root"}}, `runs as "root"`},
		{"ErrUserZero", [][2]string{{`(?m)^USER .*$`, "USER 0:0"}}, `runs as "0:0"`},
		{"ErrUserOnlyInBuildStage", [][2]string{{`(?m)^USER .*$`, ""}, {`(?m)^(FROM golang.*)$`, "$1\nUSER 65532"}}, "no USER"},
		{"ErrEntrypointShell", [][2]string{{`(?m)^ENTRYPOINT .*$`, `ENTRYPOINT ["/bin/sh", "-c", "/chuting serve"]`}}, "does not run the chuting binary"},
		{"ErrEntrypointShellForm", [][2]string{{`(?m)^ENTRYPOINT .*$`, `ENTRYPOINT /chuting`}}, "exec form"},
		{"ErrNoEntrypoint", [][2]string{{`(?m)^ENTRYPOINT .*$`, ""}}, "no ENTRYPOINT"},
		{"ErrEntrypointNotCopied", [][2]string{{`(?m)^(COPY --from=build \S+) /chuting$`, "$1 /usr/local/bin/chuting"}}, "not copied into the final stage"},
		{"ErrCmdNotServe", [][2]string{{`(?m)^CMD .*$`, `CMD ["help"]`}}, `want ["serve"]`},
		{"ErrUnknownEnv", [][2]string{{`CHUTING_DATA=`, "CHUTING_DATADIR="}}, "CHUTING_DATADIR is not the variable of any"},
		{"ErrEnvDoesNotParse", [][2]string{{`(?m)^ENV `, "ENV CHUTING_DEMO=maybe "}}, "CHUTING_DEMO"},
		{"ErrAddrLoopback", [][2]string{{`CHUTING_ADDR=\S+`, "CHUTING_ADDR=127.0.0.1:8080"}}, "loopback"},
		{"ErrPortNotExposed", [][2]string{{`(?m)^EXPOSE .*$`, "EXPOSE 9090"}}, "port 8080 is not in EXPOSE"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			broken := dockerfile
			for _, e := range tt.edits {
				edited := regexp.MustCompile(e[0]).ReplaceAllString(broken, e[1])
				if edited == broken {
					t.Fatalf("%s matches nothing in the Dockerfile: update the case", e[0])
				}
				broken = edited
			}
			problems := checkDockerfile(broken)
			if !slices.ContainsFunc(problems, func(s string) bool { return strings.Contains(s, tt.want) }) {
				t.Errorf("no problem mentions %q; got %q", tt.want, problems)
			}
		})
	}
}

// deployRoot returns the repository root, where Dockerfile and docker-compose.yml live.
func deployRoot(tb testing.TB) string {
	tb.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		tb.Fatal(err)
	}
	return root
}

// MustLoadCompose loads a compose file as `docker compose` would, but with an empty host
// environment so that the result does not depend on the machine running the test.
func MustLoadCompose(tb testing.TB, file string) *types.Project {
	tb.Helper()
	dir := filepath.Dir(file)
	p, err := loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  dir,
		ConfigFiles: []types.ConfigFile{{Filename: file}},
		Environment: types.Mapping{},
	}, func(o *loader.Options) {
		// docker compose falls back to the folder name when the file has no `name:`; without
		// a name the loader refuses the file.
		o.SetProjectName(loader.NormalizeProjectName(filepath.Base(dir)), false)
	})
	if err != nil {
		tb.Fatalf("load %s: %v", file, err)
	}
	return p
}

// editComposeService applies edit to the service name of p, if there is one.
func editComposeService(p *types.Project, name string, edit func(*types.ServiceConfig)) {
	if s, ok := p.Services[name]; ok {
		edit(&s)
		p.Services[name] = s
	}
}

// setComposeEnv sets an environment variable of the server service.
func setComposeEnv(p *types.Project, key, value string) {
	editComposeService(p, composeServer, func(s *types.ServiceConfig) {
		if s.Environment == nil {
			s.Environment = types.MappingWithEquals{}
		}
		s.Environment[key] = &value
	})
}

// checkCompose returns what is wrong with a loaded docker-compose.yml, one sentence each.
func checkCompose(p *types.Project) []string {
	var problems []string
	report := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	server, okServer := p.Services[composeServer]
	if !okServer {
		report("no service %q (the server)", composeServer)
	}
	redis, okRedis := p.Services[composeRedis]
	if !okRedis {
		report("no service %q (the store)", composeRedis)
	}

	// Redis: persistence on, data on a named volume, a healthcheck for depends_on to wait on.
	redisConfPort := composeRedisPort
	if okRedis {
		conf, err := redisConfig(redis)
		if err != nil {
			report("service %q: %v", composeRedis, err)
		} else {
			// The server refuses a Redis with persistence off (see --allow-volatile).
			if v := conf["appendonly"]; len(v) == 0 || !strings.EqualFold(v[0], "yes") {
				report("service %q: appendonly is off (%q): the server refuses a Redis without persistence; add --appendonly yes", composeRedis, v)
			}
			dir := composeRedisDir
			if v := conf["dir"]; len(v) > 0 {
				dir = path.Join(composeRedisDir, v[0]) // a relative dir is relative to the image's WORKDIR
				if path.IsAbs(v[0]) {
					dir = path.Clean(v[0])
				}
			}
			if !onNamedVolume(p, redis, dir) {
				report("service %q: redis data dir %s is not the target of a named volume declared under top-level volumes: the data goes with the container", composeRedis, dir)
			}
			if v := conf["port"]; len(v) > 0 {
				redisConfPort = v[0]
			}
		}
		if hc := redis.HealthCheck; hc == nil || hc.Disable || len(hc.Test) == 0 {
			report("service %q has no healthcheck, so depends_on condition service_healthy cannot be met", composeRedis)
		}
	}
	if !okServer {
		return problems
	}

	if dep, ok := server.DependsOn[composeRedis]; !ok {
		report("service %q does not depend on redis: it may start before its store", composeServer)
	} else if dep.Condition != types.ServiceConditionHealthy {
		report("service %q depends on redis with condition %q; want service_healthy, so it starts once Redis answers", composeServer, dep.Condition)
	}

	// Every CHUTING_* variable must be a serve flag and its value must parse, as `chuting serve`
	// would parse it.
	env := map[string]string{}
	for key, value := range server.Environment {
		if value != nil { // nil: taken from the host at `docker compose up`; only the name can be checked
			env[key] = *value
		}
		if strings.HasPrefix(key, "CHUTING_") {
			if _, ok := serveEnvNames()[key]; !ok {
				report("service %q: %s is not the variable of any `chuting serve` flag (known: %s)", composeServer, key, strings.Join(slices.Sorted(maps.Keys(serveEnvNames())), " "))
			}
		}
	}
	for _, problem := range checkServeEnvValues(env) {
		report("service %q: %s", composeServer, problem)
	}

	// CHUTING_STORE: the redis service, on the port it listens on.
	switch store := env["CHUTING_STORE"]; {
	case store == "":
		report("service %q: CHUTING_STORE is not set: the server would use its embedded store, not the redis service", composeServer)
	default:
		u, err := url.Parse(store)
		switch {
		case err != nil:
			report("service %q: CHUTING_STORE=%q: %v", composeServer, store, err)
		case u.Scheme != "redis" && u.Scheme != "rediss":
			report("service %q: CHUTING_STORE=%q: want redis://%s:%s/0", composeServer, store, composeRedis, redisConfPort)
		case u.Hostname() != composeRedis:
			report("service %q: CHUTING_STORE=%q: host %q is not the service %q", composeServer, store, u.Hostname(), composeRedis)
		case cmp.Or(u.Port(), composeRedisPort) != redisConfPort:
			report("service %q: CHUTING_STORE=%q: port %s, but redis listens on port %s", composeServer, store, cmp.Or(u.Port(), composeRedisPort), redisConfPort)
		}
	}

	// CHUTING_ADDR: every interface, on a published container port.
	if addr, ok := env["CHUTING_ADDR"]; !ok {
		report("service %q: CHUTING_ADDR is not set: the serve default listens on loopback, unreachable through a published port", composeServer)
	} else if host, port, err := net.SplitHostPort(addr); err != nil {
		report("service %q: CHUTING_ADDR=%q: %v", composeServer, addr, err)
	} else {
		if deployLoopback(host) {
			report("service %q: CHUTING_ADDR=%q listens on loopback, which a published port cannot reach; use 0.0.0.0", composeServer, addr)
		}
		if !slices.ContainsFunc(server.Ports, func(pc types.ServicePortConfig) bool {
			return strconv.FormatUint(uint64(pc.Target), 10) == port && pc.Published != "" && (pc.Protocol == "" || pc.Protocol == "tcp")
		}) {
			report("service %q: CHUTING_ADDR=%q, but container port %s is not published (ports: %s)", composeServer, addr, port, composePorts(server.Ports))
		}
	}

	// CHUTING_DATA: keys and recordings must outlive the container.
	if data, ok := env["CHUTING_DATA"]; !ok {
		report("service %q: CHUTING_DATA is not set: the data would go to ./chuting-data inside the container", composeServer)
	} else if !onNamedVolume(p, server, path.Clean(data)) {
		report("service %q: CHUTING_DATA=%s is not the target of a named volume declared under top-level volumes: keys and recordings go with the container", composeServer, data)
	}
	return problems
}

// onNamedVolume reports whether s mounts a named volume, declared at the top level of p, at target.
func onNamedVolume(p *types.Project, s types.ServiceConfig, target string) bool {
	return slices.ContainsFunc(s.Volumes, func(v types.ServiceVolumeConfig) bool {
		_, declared := p.Volumes[v.Source]
		return v.Type == types.VolumeTypeVolume && declared && path.Clean(v.Target) == target
	})
}

// redisConfig returns the settings redis-server starts with in s: the config file named on its
// command line (read through the bind mount that provides it), overridden by --name value
// arguments. Keys are lower case; values are the words after the key.
func redisConfig(s types.ServiceConfig) (map[string][]string, error) {
	args := []string(s.Command)
	switch {
	case len(args) == 0:
		args = []string{"redis-server"} // the image's CMD
	case strings.HasPrefix(args[0], "-"):
		args = append([]string{"redis-server"}, args...) // the image's entrypoint does this
	}
	if args[0] != "redis-server" {
		return nil, fmt.Errorf("command %q does not start with redis-server, so the test cannot read its settings", args)
	}
	args = args[1:]
	conf := map[string][]string{}
	if len(args) > 0 && !strings.HasPrefix(args[0], "--") {
		b, err := readMounted(s, args[0])
		if err != nil {
			return nil, fmt.Errorf("config file: %w", err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) > 0 && !strings.HasPrefix(f[0], "#") {
				conf[strings.ToLower(f[0])] = redisUnquote(f[1:])
			}
		}
		args = args[1:]
	}
	var key string
	for _, a := range args {
		if strings.HasPrefix(a, "--") {
			key = strings.ToLower(strings.TrimPrefix(a, "--"))
			conf[key] = []string{}
		} else if key != "" {
			conf[key] = append(conf[key], a)
		}
	}
	return conf, nil
}

// readMounted reads the file at name inside the container of s from the bind mount that provides it.
func readMounted(s types.ServiceConfig, name string) ([]byte, error) {
	for _, v := range s.Volumes {
		if v.Type != types.VolumeTypeBind {
			continue
		}
		if rel, err := filepath.Rel(v.Target, name); err == nil && !strings.HasPrefix(rel, "..") {
			return os.ReadFile(filepath.Join(v.Source, rel))
		}
	}
	return nil, fmt.Errorf("%s is not provided by a bind mount", name)
}

func redisUnquote(words []string) []string {
	out := make([]string, len(words))
	for i, w := range words {
		if u, err := strconv.Unquote(w); err == nil {
			w = u
		}
		out[i] = w
	}
	return out
}

// checkDockerfile returns what is wrong with the text of a Dockerfile, one sentence each.
func checkDockerfile(text string) []string {
	var problems []string
	report := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	ins := parseDockerfile(text)
	final := -1 // index of the last FROM: the final stage starts there
	var froms int
	for i, in := range ins {
		if in.cmd == "FROM" {
			froms++
			final = i
		}
	}
	if froms < 2 {
		report("%d FROM: want a multi-stage build (a Go toolchain stage, then a small runtime stage)", froms)
	}
	if final < 0 {
		return problems
	}
	finalStage := ins[final:]

	// A static binary: distroless/static has no libc.
	if !slices.ContainsFunc(ins[:final], func(in dockerInstruction) bool {
		return (in.cmd == "RUN" || in.cmd == "ENV" || in.cmd == "ARG") && regexp.MustCompile(`\bCGO_ENABLED=0\b`).MatchString(in.args)
	}) {
		report("no CGO_ENABLED=0 in the build stage: the binary would need a libc the runtime image lacks")
	}

	// Not root: the last USER of the final stage decides.
	var user string
	for _, in := range finalStage {
		if in.cmd == "USER" {
			user = in.args
		}
	}
	switch name, _, _ := strings.Cut(user, ":"); name {
	case "":
		report("no USER in the final stage: the server would run as the base image's user")
	case "root", "0":
		report("final stage runs as %q: want a non-root user such as 65532 (nonroot)", user)
	}

	// The entrypoint runs the binary, copied into the final stage, with `serve` by default.
	var entrypoint, command []string
	for _, in := range finalStage {
		switch in.cmd {
		case "ENTRYPOINT":
			if err := json.Unmarshal([]byte(in.args), &entrypoint); err != nil {
				report("ENTRYPOINT %s: want the exec form [\"/chuting\"], so signals reach the server (and distroless has no shell): %v", in.args, err)
				entrypoint = []string{}
			}
		case "CMD":
			if err := json.Unmarshal([]byte(in.args), &command); err != nil {
				report("CMD %s: want the exec form [\"serve\"]: %v", in.args, err)
			}
		}
	}
	switch {
	case entrypoint == nil:
		report("no ENTRYPOINT in the final stage")
	case len(entrypoint) == 0:
		// reported above
	case path.Base(entrypoint[0]) != "chuting":
		report("ENTRYPOINT %q does not run the chuting binary", entrypoint)
	case !slices.ContainsFunc(finalStage, func(in dockerInstruction) bool {
		f := strings.Fields(in.args)
		return in.cmd == "COPY" && len(f) > 0 && path.Clean(f[len(f)-1]) == path.Clean(entrypoint[0])
	}):
		report("ENTRYPOINT runs %s, which is not copied into the final stage", entrypoint[0])
	}
	if args := slices.Concat(entrypoint[min(1, len(entrypoint)):], command); len(args) == 0 || args[0] != "serve" {
		report("the container runs chuting with %q: want [\"serve\"] as CMD", args)
	}

	// ENV: real serve flags with values that parse, and a reachable, exposed address.
	env := map[string]string{}
	for _, in := range finalStage {
		if in.cmd != "ENV" {
			continue
		}
		for key, value := range dockerfileEnv(in.args) {
			env[key] = value
			if _, ok := serveEnvNames()[key]; strings.HasPrefix(key, "CHUTING_") && !ok {
				report("ENV %s is not the variable of any `chuting serve` flag (known: %s)", key, strings.Join(slices.Sorted(maps.Keys(serveEnvNames())), " "))
			}
		}
	}
	problems = append(problems, checkServeEnvValues(env)...)
	if addr, ok := env["CHUTING_ADDR"]; ok {
		if host, port, err := net.SplitHostPort(addr); err == nil {
			if deployLoopback(host) {
				report("ENV CHUTING_ADDR=%s listens on loopback, unreachable from outside the container; use 0.0.0.0", addr)
			}
			if !slices.ContainsFunc(finalStage, func(in dockerInstruction) bool {
				return in.cmd == "EXPOSE" && slices.ContainsFunc(strings.Fields(in.args), func(p string) bool {
					return p == port || p == port+"/tcp"
				})
			}) {
				report("ENV CHUTING_ADDR=%s, but port %s is not in EXPOSE", addr, port)
			}
		}
	}
	return problems
}

// dockerInstruction is one Dockerfile dockerInstruction: cmd in upper case, args with --flags removed.
type dockerInstruction struct {
	cmd, args string
}

// parseDockerfile splits a Dockerfile into dockerInstructions, joining continued lines and dropping
// comments and the --flags of RUN and COPY (--from, --chown, --mount …).
func parseDockerfile(text string) []dockerInstruction {
	var ins []dockerInstruction
	var cur string
	for _, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") || (trimmed == "" && cur == "") {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur += strings.TrimSuffix(trimmed, "\\") + " "
			continue
		}
		cur += trimmed
		cmd, args, _ := strings.Cut(strings.TrimSpace(cur), " ")
		cur = ""
		f := strings.Fields(args)
		for len(f) > 0 && strings.HasPrefix(f[0], "--") && strings.ToUpper(cmd) != "ENV" {
			f = f[1:]
		}
		if strings.ToUpper(cmd) != "ENV" {
			args = strings.Join(f, " ")
		}
		ins = append(ins, dockerInstruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)})
	}
	return ins
}

// dockerfileEnv parses the arguments of ENV: KEY=VALUE pairs (values may be double-quoted), or the
// legacy form KEY VALUE.
func dockerfileEnv(args string) map[string]string {
	env := map[string]string{}
	first, rest, _ := strings.Cut(args, " ")
	if !strings.Contains(first, "=") {
		env[first] = strings.TrimSpace(rest)
		return env
	}
	for _, m := range regexp.MustCompile(`(\w+)=("(?:[^"\\]|\\.)*"|\S*)`).FindAllStringSubmatch(args, -1) {
		env[m[1]] = strings.Join(redisUnquote([]string{m[2]}), "")
	}
	return env
}

// serveEnvNames returns the environment variables of the `chuting serve` flags, mapped to the flag names.
func serveEnvNames() map[string]string {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	serveFlags(fs, &Config{})
	env := map[string]string{}
	fs.VisitAll(func(f *flag.Flag) { env[EnvName(f.Name)] = f.Name })
	return env
}

// checkServeEnvValues sets the serve flags from env as `chuting serve` would, and returns the
// variables whose values do not parse, and what Config.validate then refuses.
func checkServeEnvValues(env map[string]string) []string {
	var problems []string
	var c Config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	serveFlags(fs, &c)
	names := serveEnvNames()
	for _, key := range slices.Sorted(maps.Keys(env)) {
		if name, ok := names[key]; ok {
			if err := fs.Set(name, env[key]); err != nil {
				problems = append(problems, fmt.Sprintf("%s=%q does not parse as --%s: %v", key, env[key], name, err))
			}
		}
	}
	if err := c.validate(); err != nil {
		problems = append(problems, fmt.Sprintf("chuting serve would refuse this environment: %v", err))
	}
	return problems
}

func deployLoopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

func composePorts(ports []types.ServicePortConfig) string {
	var s []string
	for _, p := range ports {
		s = append(s, fmt.Sprintf("%s:%d/%s", p.Published, p.Target, p.Protocol))
	}
	if s == nil {
		return "none"
	}
	return strings.Join(s, " ")
}

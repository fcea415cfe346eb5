package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	osuser "os/user"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/auth"
)

const userUsage = `usage:
  chuting user add --username NAME --name 姓名 --role ROLE [--court ID | --institution ID | --appraiser ID]
  chuting user passwd --username NAME
  chuting user list
The password is read from standard input (one line). Roles: bureau_admin, institution_admin,
clerk, judge, appraiser. With the embedded store, stop the server first (it holds the file).
`

// runUser manages accounts directly in the store: the way to make the first bureau admin, or
// to reset a password when no admin can sign in.
func runUser(ctx context.Context, args []string, io *stdio, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprint(io.err, userUsage)
		return errors.New("missing subcommand")
	}
	var c Config
	var username, name, role, court, institution, appraiser string
	fs := flag.NewFlagSet("chuting user "+args[0], flag.ContinueOnError)
	fs.SetOutput(io.err)
	storeFlags(fs, &c)
	switch args[0] {
	case "add":
		fs.StringVar(&username, "username", "", "sign-in name")
		fs.StringVar(&name, "name", "", "full name, as shown to others")
		fs.StringVar(&role, "role", "", "bureau_admin, institution_admin, clerk, judge or appraiser")
		fs.StringVar(&court, "court", "", "court ID (clerk, judge)")
		fs.StringVar(&institution, "institution", "", "institution ID (institution_admin)")
		fs.StringVar(&appraiser, "appraiser", "", "appraiser ID (appraiser)")
	case "passwd":
		fs.StringVar(&username, "username", "", "sign-in name")
	case "list":
	default:
		fmt.Fprint(io.err, userUsage)
		return fmt.Errorf("unknown subcommand %q", args[0])
	}
	if err := parseFlags(fs, args[1:], getenv); err != nil {
		return err
	}
	if err := c.validateStore(); err != nil {
		return err
	}
	logger := newLogger(io.err, "warn", "text")
	store, err := openStore(ctx, &c, logger)
	if err != nil {
		return err
	}
	defer store.Close()
	svc, err := auth.New(store, auth.Options{})
	if err != nil {
		return err
	}
	switch args[0] {
	case "add":
		r, err := chuting.ParseRole(role)
		if err != nil || r == chuting.RoleUnknown {
			return fmt.Errorf("--role %q: want one of bureau_admin, institution_admin, clerk, judge, appraiser", role)
		}
		password, err := readPassword(io)
		if err != nil {
			return err
		}
		u, err := svc.NewUser(ctx, chuting.FoldUsername(username), name, r, password)
		if err != nil {
			return cliError(err)
		}
		if err := svc.Scope(ctx, u, court, institution, appraiser); err != nil {
			return cliError(err)
		}
		if err := chuting.Create(ctx, store, u); err != nil {
			return cliError(err)
		}
		if err := auditCLI(ctx, store, "chuting user add", "user:"+u.ID); err != nil {
			return err
		}
		fmt.Fprintf(io.out, "created user %s (%s, %s) id %s\n", u.Username, u.Name, u.Role, u.ID)
	case "passwd":
		u, err := chuting.FindOne[chuting.User](ctx, store, chuting.IndexUsername, chuting.FoldUsername(username))
		if err != nil {
			return cliError(err)
		}
		password, err := readPassword(io)
		if err != nil {
			return err
		}
		if err := svc.SetPassword(ctx, u, password); err != nil {
			return cliError(err)
		}
		if err := auditCLI(ctx, store, "chuting user passwd", "user:"+u.ID); err != nil {
			return err
		}
		fmt.Fprintf(io.out, "password of %s changed; their sessions are ended\n", u.Username)
	case "list":
		tw := tabwriter.NewWriter(io.out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "USERNAME\tROLE\tNAME\tID\tDISABLED")
		q := chuting.Query{}
		for {
			users, next, err := chuting.Find[chuting.User](ctx, store, q)
			if err != nil {
				return err
			}
			for _, u := range users {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\n", u.Username, u.Role, u.Name, u.ID, u.Disabled)
			}
			if next == "" {
				break
			}
			q.After = next
		}
		return tw.Flush()
	}
	return nil
}

// auditCLI appends the audit event of a change made at the command line, which bypasses the
// API and its audit: who (the operating-system user), where (the host), what.
func auditCLI(ctx context.Context, logs chuting.Logs, action, target string) error {
	who := "unknown"
	if u, err := osuser.Current(); err == nil {
		who = u.Username
	}
	host, _ := os.Hostname()
	ev := chuting.AuditEvent{Time: time.Now().UTC(), ActorName: "os:" + who, Via: "cli", Action: action,
		Target: target, Remote: host, Outcome: "ok"}
	data, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	if _, err := logs.Append(ctx, chuting.AuditStream, chuting.Event{Time: ev.Time, Type: action, Data: data}); err != nil {
		return fmt.Errorf("write the audit event: %w", err)
	}
	return nil
}

// readPassword reads one line from standard input.
func readPassword(io *stdio) (string, error) {
	line, err := bufio.NewReader(io.in).ReadString('\n')
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", fmt.Errorf("no password on standard input: %w", err)
	}
	return line, nil
}

// cliError prints a store or validation error the way a person at a terminal wants it.
func cliError(err error) error {
	if f := chuting.ErrorField(err); f != "" {
		return fmt.Errorf("%s: %s", f, chuting.ErrorMessage(err))
	}
	if code := chuting.ErrorCode(err); code != chuting.EINTERNAL {
		return errors.New(chuting.ErrorMessage(err))
	}
	return err
}

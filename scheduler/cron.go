package scheduler

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/chuting/chuting"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"
)

// Job is a periodic job: a name, a schedule in cron syntax (robfig/cron: five fields, or six
// with seconds when CronConfig.Seconds is set, or @every and @daily descriptors) and the work.
type Job struct {
	Name string
	Spec string
	Run  func(ctx context.Context) error
	// CatchUp runs the job's last tick once more when the cron starts: a tick that fell while
	// no node was up (the monthly reports at 02:30 on the 1st, across a restart) is made up.
	// Only for jobs that may run twice (they skip what is done).
	CatchUp bool
}

// CronConfig holds what a Cron needs.
type CronConfig struct {
	Leaser   chuting.Leaser // the store's leases: one node runs each tick
	Holder   string         // this node's name in the leases
	Location *time.Location // the zone of the schedules; nil = Asia/Shanghai
	Seconds  bool           // schedules have a seconds field (tests)
	Timeout  time.Duration  // a run's deadline; 0 = 10 min
	Logger   *slog.Logger
	// Registerer receives the job metrics (runs by outcome, durations, last success).
	Registerer prometheus.Registerer
}

// Cron runs periodic jobs with robfig/cron, once per tick across every node sharing the
// store: before running a tick, a node takes the lease named after the job and the tick's
// scheduled time, and only the node that gets it runs. The lease outlives the tick, so a node
// whose clock lags cannot take it again.
type Cron struct {
	catchUp []scheduledJob // the CatchUp jobs, run at Start
	c       *cron.Cron
	cfg     CronConfig
	loc     *time.Location
	parser  cron.Parser
	runs    *prometheus.CounterVec
	took    *prometheus.HistogramVec
	success *prometheus.GaugeVec
}

// maxLag is how late a node may start a tick and still count it as that tick.
const maxLag = 10 * time.Second

// tickLease is how long a tick's lease is kept: far longer than any clock skew between nodes.
const tickLease = 10 * time.Minute

// NewCron returns a Cron; Add jobs, then Start it.
func NewCron(cfg CronConfig) *Cron {
	c := &Cron{cfg: cfg, loc: cfg.Location}
	if c.loc == nil {
		c.loc = chuting.ChinaZone()
	}
	if c.cfg.Timeout == 0 {
		c.cfg.Timeout = 10 * time.Minute
	}
	if c.cfg.Logger == nil {
		c.cfg.Logger = slog.New(slog.DiscardHandler)
	}
	fields := cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor
	if cfg.Seconds {
		fields |= cron.Second
	}
	c.parser = cron.NewParser(fields)
	c.c = cron.New(cron.WithLocation(c.loc), cron.WithParser(c.parser))
	c.runs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "chuting_job_runs_total",
		Help: "Periodic job ticks, by job and outcome (ok, error, skipped: another node ran it)."}, []string{"job", "outcome"})
	c.took = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "chuting_job_duration_seconds",
		Help: "Time periodic jobs take.", Buckets: prometheus.ExponentialBuckets(0.001, 4, 10)}, []string{"job"})
	c.success = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "chuting_job_last_success_timestamp_seconds",
		Help: "When each periodic job last succeeded on this node."}, []string{"job"})
	if cfg.Registerer != nil {
		cfg.Registerer.MustRegister(c.runs, c.took, c.success)
	}
	return c
}

// Add schedules j. It fails for a schedule that does not parse.
func (c *Cron) Add(j Job) error {
	sched, err := c.parser.Parse(j.Spec)
	if err != nil {
		return fmt.Errorf("job %s: schedule %q: %w", j.Name, j.Spec, err)
	}
	if j.CatchUp {
		c.catchUp = append(c.catchUp, scheduledJob{j, sched})
	}
	c.c.Schedule(sched, cron.FuncJob(func() {
		now := time.Now().In(c.loc)
		tick, ok := scheduledTick(sched, now)
		if !ok {
			// Started too late to tell which tick this is: skip it, rather than run it under a
			// name the other nodes would not use.
			c.runs.WithLabelValues(j.Name, "late").Inc()
			c.cfg.Logger.Warn("job tick started too late; skipped", "job", j.Name, "at", now)
			return
		}
		_, _ = c.Tick(context.Background(), j, tick)
	}))
	return nil
}

// scheduledTick returns the scheduled time of the tick running at now: the latest time of
// the schedule within maxLag before now, so that nodes starting a tick a little apart agree.
// ok is false when no tick fell within maxLag.
func scheduledTick(sched cron.Schedule, now time.Time) (time.Time, bool) {
	t := sched.Next(now.Add(-maxLag))
	if t.After(now) {
		return time.Time{}, false
	}
	for next := sched.Next(t); !next.After(now); next = sched.Next(next) {
		t = next
	}
	return t, true
}

// Tick runs j for the tick scheduled at tick, unless another node has taken it. It reports
// whether it ran, and the job's error.
func (c *Cron) Tick(ctx context.Context, j Job, tick time.Time) (bool, error) {
	name := "job/" + j.Name + "/" + tick.UTC().Format(time.RFC3339)
	_, ok, err := c.cfg.Leaser.Acquire(ctx, name, c.cfg.Holder, tickLease)
	if err != nil {
		c.runs.WithLabelValues(j.Name, "error").Inc()
		c.cfg.Logger.Error("job lease", "job", j.Name, "tick", tick, "err", err)
		return false, err
	}
	if !ok {
		c.runs.WithLabelValues(j.Name, "skipped").Inc()
		return false, nil
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	start := time.Now()
	err = j.Run(ctx)
	c.took.WithLabelValues(j.Name).Observe(time.Since(start).Seconds())
	if err != nil {
		c.runs.WithLabelValues(j.Name, "error").Inc()
		c.cfg.Logger.Error("job failed", "job", j.Name, "tick", tick, "err", err)
		return true, err
	}
	c.runs.WithLabelValues(j.Name, "ok").Inc()
	c.success.WithLabelValues(j.Name).SetToCurrentTime()
	c.cfg.Logger.Debug("job ran", "job", j.Name, "tick", tick, "took", time.Since(start))
	return true, nil
}

// scheduledJob is a job and its parsed schedule.
type scheduledJob struct {
	Job
	sched cron.Schedule
}

// Start starts running the jobs in the background, the CatchUp ones at once for their last
// tick (under that tick's lease, as any run).
func (c *Cron) Start() {
	c.c.Start()
	for _, j := range c.catchUp {
		if tick, ok := lastTick(j.sched, time.Now().In(c.loc)); ok {
			go func() { _, _ = c.Tick(context.Background(), j.Job, tick) }()
		}
	}
}

// lastTick returns the schedule's latest time at or before now, looking back 40 days (a
// monthly schedule's last tick); ok is false when none fell then.
func lastTick(sched cron.Schedule, now time.Time) (time.Time, bool) {
	var last time.Time
	for t := sched.Next(now.AddDate(0, 0, -40)); !t.IsZero() && !t.After(now); t = sched.Next(t) {
		last = t
	}
	return last, !last.IsZero()
}

// Stop stops scheduling and waits for running jobs to finish, or ctx to end.
func (c *Cron) Stop(ctx context.Context) {
	select {
	case <-c.c.Stop().Done():
	case <-ctx.Done():
	}
}

// Jobs returns the scheduler's periodic jobs (DOMAIN.md #34–#38, #43, issue 3 §8): reminders,
// no-show detection, the eligibility sweep, the nightly optimisation, and attendance's
// follow-up sweep and monthly reports.
func (s *Service) Jobs() []Job {
	jobs := []Job{
		{Name: "reminders", Spec: "*/5 * * * *", Run: func(ctx context.Context) error {
			_, err := s.SendReminders(ctx)
			return err
		}},
		{Name: "no-shows", Spec: "* * * * *", Run: func(ctx context.Context) error {
			_, err := s.DetectNoShows(ctx, 15*time.Minute)
			return err
		}},
		{Name: "eligibility-sweep", Spec: "0 6 * * *", Run: func(ctx context.Context) error {
			_, err := s.SweepEligibility(ctx, 30*24*time.Hour)
			return err
		}},
		{Name: "hearings", Spec: "*/10 * * * *", Run: func(ctx context.Context) error {
			_, err := s.ReconcileHearings(ctx)
			return err
		}},
		{Name: "optimise", Spec: "0 2 * * *", Run: func(ctx context.Context) error {
			_, err := s.Optimise(ctx, "", optimiseBudget)
			return err
		}},
	}
	if s.att == nil {
		return jobs
	}
	return append(jobs,
		// The follow-ups of absences without cause, for any the court's step or correction
		// failed to open (#36, #38); each run is idempotent.
		Job{Name: "attendance-follow-ups", Spec: "7 * * * *", CatchUp: true, Run: func(ctx context.Context) error {
			_, err := s.att.SweepFollowUps(ctx)
			return err
		}},
		// The monthly statistics reports (统计报表, #43): last month's, at 02:30 on the 1st.
		Job{Name: "attendance-reports", Spec: "30 2 1 * *", CatchUp: true, Run: func(ctx context.Context) error {
			_, err := s.att.ReportLastMonth(ctx)
			return err
		}})
}

package solver

import (
	"context"
	"testing"
)

// benchmarkSolve solves one generated instance per iteration with the default options
// (time budget DefaultTimeLimit) and reports the score and Greedy's.
func benchmarkSolve(b *testing.B, summons, appraisers, rooms, days int) {
	p := Generate(1, summons, appraisers, rooms, days)
	g, _ := Check(p, Greedy(p))
	b.ReportAllocs()
	b.ResetTimer()
	var rep Report
	for i := 0; i < b.N; i++ {
		_, rep = Solve(context.Background(), p, Options{Seed: 1})
	}
	b.StopTimer()
	b.ReportMetric(float64(rep.Score.N), "N")
	b.ReportMetric(float64(rep.Score.Delta), "Δ")
	b.ReportMetric(float64(rep.Score.L), "L")
	b.ReportMetric(float64(g.N), "greedyN")
	b.ReportMetric(float64(g.Delta), "greedyΔ")
	b.ReportMetric(float64(rep.Iterations), "iterations")
}

// BenchmarkSolve400 is the acceptance size (target: under 2 s).
func BenchmarkSolve400(b *testing.B) { benchmarkSolve(b, 400, 150, 40, 20) }

// BenchmarkSolve5000 is a bureau-wide batch (target: under 60 s).
func BenchmarkSolve5000(b *testing.B) { benchmarkSolve(b, 5000, 1500, 400, 60) }

// BenchmarkGreedy5000 is the baseline on the large instance, for comparison.
func BenchmarkGreedy5000(b *testing.B) {
	p := Generate(1, 5000, 1500, 400, 60)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Greedy(p)
	}
}

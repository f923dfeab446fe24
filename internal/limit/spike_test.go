package limit

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// spikeTestConfig is the documented default: 10×, 10s windows, a 10m
// baseline, at least 100 requests, a 1m cool-down.
func spikeTestConfig(c *fakeClock) SpikeConfig {
	return SpikeConfig{Factor: 10, Window: 10 * time.Second, Baseline: 10 * time.Minute, MinRequests: 100,
		Cooldown: time.Minute, Now: c.Now}
}

func newTestDetector(t testing.TB, cfg SpikeConfig) *SpikeDetector {
	t.Helper()
	d, err := NewSpikeDetector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// drive sends perWindow requests of subject in each of windows windows,
// spread evenly, and returns the verdicts that throttled.
func drive(d *SpikeDetector, c *fakeClock, subject string, perWindow, windows int, window time.Duration) []Spike {
	var throttled []Spike
	step := window / time.Duration(perWindow)
	for range windows {
		for range perWindow {
			if v := d.Hit(subject); v.Throttled {
				throttled = append(throttled, v)
			}
			c.Advance(step)
		}
	}
	return throttled
}

func TestSteadyTrafficNeverTrips(t *testing.T) {
	for _, perWindow := range []int{1, 50, 100, 1000, 5000} {
		t.Run(fmt.Sprint(perWindow), func(t *testing.T) {
			c := newFakeClock()
			d := newTestDetector(t, spikeTestConfig(c))
			// 30 minutes of steady traffic: through the warm-up and well after.
			if th := drive(d, c, "key_a", perWindow, 180, 10*time.Second); len(th) != 0 {
				t.Fatalf("steady %d per window: %d requests throttled, first %+v", perWindow, len(th), th[0])
			}
		})
	}
}

// TestTrafficThatDoublesOrWobblesDoesNotTrip: only a jump of Factor is a
// spike, not ordinary growth or noise.
func TestTrafficThatDoublesOrWobblesDoesNotTrip(t *testing.T) {
	c := newFakeClock()
	d := newTestDetector(t, spikeTestConfig(c))
	drive(d, c, "k", 100, 90, 10*time.Second)
	for i := range 60 {
		n := 100 + (i%3)*150 // 100, 250, 400 requests per window
		if th := drive(d, c, "k", n, 1, 10*time.Second); len(th) != 0 {
			t.Fatalf("window %d with %d requests throttled: %+v", i, n, th[0])
		}
	}
}

// TestAJumpTripsOnceThrottlesForTheCooldownThenPasses is the contract: a
// 20× jump trips, every request during the cool-down is refused with the
// time left, the trip is reported once, and the subject passes again
// when the cool-down is over.
func TestAJumpTripsOnceThrottlesForTheCooldownThenPasses(t *testing.T) {
	c := newFakeClock()
	d := newTestDetector(t, spikeTestConfig(c))
	drive(d, c, "key_a", 20, 90, 10*time.Second) // a baseline of 20 per window, 15 minutes
	drive(d, c, "key_b", 20, 0, 10*time.Second)

	// 20× the baseline: 400 requests in one window.
	var trips []Spike
	first := -1
	for i := range 400 {
		v := d.Hit("key_a")
		if v.Tripped {
			trips = append(trips, v)
		}
		if v.Throttled && first < 0 {
			first = i
		}
		c.Advance(25 * time.Millisecond)
	}
	if len(trips) != 1 {
		t.Fatalf("%d trips, want exactly 1", len(trips))
	}
	tr := trips[0]
	// The baseline is 20 (every window had 20), so the spike is the
	// request that makes the window's count exceed 200: the 201st.
	if first != 200 || tr.Count != 201 || tr.Baseline < 19.9 || tr.Baseline > 20.1 || tr.RetryAfter != time.Minute {
		t.Errorf("tripped at request %d: %+v; want request 200 with count 201, baseline 20, retry 1m", first, tr)
	}
	// Other subjects are not affected.
	if v := d.Hit("key_b"); v.Throttled {
		t.Errorf("another key throttled: %+v", v)
	}
	// The cool-down started 199 requests (199×25ms) ago; the rest is
	// throttled with the time left.
	tripAt := c.Now().Add(-200 * 25 * time.Millisecond)
	for c.Now().Before(tripAt.Add(time.Minute)) {
		v := d.Hit("key_a")
		want := tripAt.Add(time.Minute).Sub(c.Now())
		if !v.Throttled || v.Tripped || v.RetryAfter != want {
			t.Fatalf("during the cool-down at %v: %+v, want throttled with %v left", c.Now().Sub(tripAt), v, want)
		}
		c.Advance(time.Second)
	}
	// After it: baseline traffic passes (the spike did not become the
	// baseline).
	if th := drive(d, c, "key_a", 20, 60, 10*time.Second); len(th) != 0 {
		t.Fatalf("after the cool-down: %d throttled, first %+v", len(th), th[0])
	}
	// A second jump trips again, once.
	var again int
	for range 400 {
		if d.Hit("key_a").Tripped {
			again++
		}
		c.Advance(25 * time.Millisecond)
	}
	if again != 1 {
		t.Errorf("second jump: %d trips, want 1", again)
	}
}

func TestBelowMinRequestsNeverTrips(t *testing.T) {
	c := newFakeClock()
	d := newTestDetector(t, spikeTestConfig(c))
	drive(d, c, "k", 1, 90, 10*time.Second)
	// 99 in a window is 99× a baseline of 1 but below min_requests.
	if th := drive(d, c, "k", 99, 1, 10*time.Second); len(th) != 0 {
		t.Errorf("99 requests (min 100) throttled: %+v", th[0])
	}
}

func TestNothingTripsDuringTheWarmUp(t *testing.T) {
	c := newFakeClock()
	d := newTestDetector(t, spikeTestConfig(c))
	// A burst from nothing in the first minutes after start (a restart
	// forgot every baseline): not a spike yet.
	if th := drive(d, c, "k", 2000, 3, 10*time.Second); len(th) != 0 {
		t.Fatalf("throttled during the warm-up: %+v", th[0])
	}
	c.Advance(10 * time.Minute)
	// After the warm-up, a subject never seen trips at min_requests in
	// one window: a baseline of nothing.
	th := drive(d, c, "new", 150, 1, 10*time.Second)
	if len(th) == 0 || !th[0].Tripped || th[0].Count != 100 || th[0].Baseline != 0 {
		t.Errorf("a new subject's burst: %+v; want one trip at count 100, baseline 0", th)
	}
}

// TestIdleSubjectsBaselineDecays: a subject quiet for a long time has
// little baseline left, so a sudden burst trips.
func TestIdleSubjectsBaselineDecays(t *testing.T) {
	c := newFakeClock()
	d := newTestDetector(t, spikeTestConfig(c))
	drive(d, c, "k", 50, 90, 10*time.Second)
	c.Advance(2 * time.Hour)
	th := drive(d, c, "k", 150, 1, 10*time.Second)
	if len(th) == 0 || !th[0].Tripped || th[0].Baseline > 1 {
		t.Errorf("burst after 2h idle: %+v; want a trip against a decayed baseline", th)
	}
}

func TestSpikeSubjectsAreBounded(t *testing.T) {
	c := newFakeClock()
	cfg := spikeTestConfig(c)
	cfg.MaxSubjects = 64
	d := newTestDetector(t, cfg)
	for i := range 10_000 {
		d.Hit(fmt.Sprint("ip-", i))
	}
	if n := d.Subjects(); n > 64 || n < 32 {
		t.Errorf("%d subjects tracked, want at most 64 (and not far fewer)", n)
	}
}

func TestSpikeConfigIsChecked(t *testing.T) {
	_, err1 := NewSpikeDetector(SpikeConfig{Factor: 1, Window: 0, Baseline: time.Second, MinRequests: 0, Cooldown: 0, MaxSubjects: -1})
	_, err2 := NewSpikeDetector(SpikeConfig{Factor: 2, Window: time.Second, Baseline: time.Second, MinRequests: 1, Cooldown: 1})
	if err1 == nil || err2 == nil {
		t.Fatalf("a bad config was accepted: %v, %v", err1, err2)
	}
	err := fmt.Errorf("%w\n%w", err1, err2)
	for _, want := range []string{"factor", "window", "baseline", "min requests", "cooldown", "max subjects"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

// TestSpikeConcurrentHitsTripOnce: of many goroutines pushing a subject
// over the line at once, exactly one reports the trip.
func TestSpikeConcurrentHitsTripOnce(t *testing.T) {
	c := newFakeClock()
	d := newTestDetector(t, spikeTestConfig(c))
	drive(d, c, "k", 10, 90, 10*time.Second)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		trips int
	)
	for range 8 {
		wg.Go(func() {
			for range 500 {
				if d.Hit("k").Tripped {
					mu.Lock()
					trips++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if trips != 1 {
		t.Errorf("%d trips from concurrent hits, want 1", trips)
	}
}

func BenchmarkSpikeHit(b *testing.B) {
	d, err := NewSpikeDetector(SpikeConfig{Factor: 10, Window: 10 * time.Second, Baseline: 10 * time.Minute,
		MinRequests: 100, Cooldown: time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	subjects := make([]string, 1024)
	for i := range subjects {
		subjects[i] = fmt.Sprintf("203.0.113.%d:%d", i%256, i)
	}
	b.Run("one subject", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			d.Hit("key_0123456789")
		}
	})
	b.Run("1024 subjects", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			d.Hit(subjects[i&1023])
			i++
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				d.Hit(subjects[i&1023])
				i++
			}
		})
	})
}

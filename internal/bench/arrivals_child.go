package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/bibliotek24/bibstat/internal/sushisim"
)

// vendorsEnv set to "serve" makes `bench harvest` the vendors' process
// (childVendors) instead of the harvester: the same binary, started by
// the harvester's bench.
const vendorsEnv = "BIBSTAT_BENCH_VENDORS"

// childReport is what the vendors' process says at the end: every
// arrival it recorded, its CPU time once its servers listened and at the
// end, and its peak memory.
type childReport struct {
	Handler   map[string][]int64 `json:"handler"`
	Wire      map[string][]int64 `json:"wire"`
	CPUReady  time.Duration      `json:"cpu_ready_ns"`
	CPUEnd    time.Duration      `json:"cpu_end_ns"`
	PeakRSSMB float64            `json:"peak_rss_mb"`
}

// serveVendorsChild is the vendors' process: it serves world exactly as
// serveRecorded does in process, writes "base PLATFORM URL" lines and
// "ready" to out, then, once in closes (the harvest is over), stops
// its servers and writes its childReport as one JSON line.
func serveVendorsChild(world *sushisim.Config, in io.Reader, out io.Writer) error {
	arr, bases, stop, err := serveRecorded(world)
	if err != nil {
		return err
	}
	defer stop()
	for _, p := range slices.Sorted(maps.Keys(bases)) {
		fmt.Fprintf(out, "base %s %s\n", p, bases[p])
	}
	ready := cpuTime()
	fmt.Fprintln(out, "ready")
	_, _ = io.Copy(io.Discard, in) // until the harvester closes its end
	stop()
	arr.mu.Lock()
	rep := childReport{Handler: arr.handler, Wire: arr.wire, CPUReady: ready, CPUEnd: cpuTime(), PeakRSSMB: peakRSSMB()}
	b, err := json.Marshal(rep)
	arr.mu.Unlock()
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "%s\n", b)
	return err
}

// vendorChild is the harvester's handle on the vendors' process.
type vendorChild struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
}

// startVendorChild runs this binary as the vendors' process for the
// world of libraries × platforms × months (harvestWorld's, so the same
// country as in process) and returns its hosts' base URLs once they
// listen. The child is its own process so that the kernel schedules the
// vendors as it would another machine's: not on the harvester's Ps, not
// in its collector's heap. The spacing is still judged by the kernel's
// receive times at the vendors' sockets.
func startVendorChild(ctx context.Context, libraries, platforms, months int) (*vendorChild, map[string]string, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, nil, fmt.Errorf("vendors process: %w", err)
	}
	cmd := exec.CommandContext(ctx, exe, "bench", "harvest", fmt.Sprint("--libraries=", libraries),
		fmt.Sprint("--platforms=", platforms), fmt.Sprint("--months=", months))
	cmd.Env = append(os.Environ(), vendorsEnv+"=serve")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, nil, fmt.Errorf("vendors process: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, fmt.Errorf("vendors process: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("vendors process: %w", err)
	}
	c := &vendorChild{cmd: cmd, stdin: stdin, out: bufio.NewReaderSize(stdout, 1<<20)}
	bases := map[string]string{}
	for {
		line, err := c.out.ReadString('\n')
		if err != nil {
			c.kill()
			return nil, nil, fmt.Errorf("vendors process: before ready: %w", err)
		}
		line = strings.TrimSpace(line)
		if line == "ready" {
			return c, bases, nil
		}
		f := strings.Fields(line)
		if len(f) != 3 || f[0] != "base" {
			c.kill()
			return nil, nil, fmt.Errorf("vendors process: unexpected line %q", line)
		}
		bases[f[1]] = f[2]
	}
}

// finish ends the vendors' process and returns what it recorded.
func (c *vendorChild) finish() (*arrivals, childReport, error) {
	c.stdin.Close()
	line, rerr := c.out.ReadBytes('\n')
	werr := c.cmd.Wait()
	var rep childReport
	if err := json.Unmarshal(line, &rep); err != nil {
		return nil, rep, fmt.Errorf("vendors process: report: %w", errors.Join(err, rerr, werr))
	}
	if werr != nil {
		return nil, rep, fmt.Errorf("vendors process: %w", werr)
	}
	arr := &arrivals{handler: rep.Handler, wire: rep.Wire}
	if arr.handler == nil {
		arr.handler = map[string][]int64{}
	}
	if arr.wire == nil {
		arr.wire = map[string][]int64{}
	}
	return arr, rep, nil
}

// kill stops a vendors' process that failed to start properly.
func (c *vendorChild) kill() {
	c.stdin.Close()
	_ = c.cmd.Process.Kill()
	_ = c.cmd.Wait()
}

// benchVendors are the simulated vendors of a bench harvest, in this
// process or in a child.
type benchVendors struct {
	bases map[string]string
	stop  func()
	// finish stops the vendors and returns their arrivals and, for a
	// child, its CPU time during the harvest and its peak memory.
	finish func() (arr *arrivals, cpu time.Duration, peakMB float64, err error)
}

// startVendors serves world's platforms, one host each, in this process
// (where "inline") or in a child process (where "process").
func startVendors(ctx context.Context, where string, world *sushisim.Config, libraries, platforms, months int) (*benchVendors, error) {
	if where == "inline" {
		arr, bases, stop, err := serveRecorded(world)
		if err != nil {
			return nil, err
		}
		return &benchVendors{bases: bases, stop: stop, finish: func() (*arrivals, time.Duration, float64, error) {
			return arr, 0, 0, nil
		}}, nil
	}
	c, bases, err := startVendorChild(ctx, libraries, platforms, months)
	if err != nil {
		return nil, err
	}
	done := false
	v := &benchVendors{bases: bases, stop: func() {
		if !done {
			c.kill()
		}
	}}
	v.finish = func() (*arrivals, time.Duration, float64, error) {
		done = true
		arr, rep, err := c.finish()
		return arr, rep.CPUEnd - rep.CPUReady, rep.PeakRSSMB, err
	}
	return v, nil
}

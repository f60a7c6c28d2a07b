package bench

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestVendorsChild: the vendors' side of --vendors process, over pipes in
// this process: it names every platform's base, says ready, serves, and
// once its input closes reports each request it received, at the handler
// (and at the socket where the system stamps receive times). Fails if an
// arrival is lost on the way back to the harvester's bench.
func TestVendorsChild(t *testing.T) {
	world := harvestWorld(2, 3, 1)
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	errc := make(chan error, 1)
	go func() { errc <- serveVendorsChild(world, inR, outW); outW.Close() }()

	out := bufio.NewReader(outR)
	bases := map[string]string{}
	for {
		line, err := out.ReadString('\n')
		if err != nil {
			t.Fatalf("before ready: %v", err)
		}
		if line == "ready\n" {
			break
		}
		f := strings.Fields(line)
		if len(f) != 3 || f[0] != "base" {
			t.Fatalf("line %q", line)
		}
		bases[f[1]] = f[2]
	}
	if len(bases) != 3 {
		t.Fatalf("%d bases, want 3: %v", len(bases), bases)
	}
	for range 2 {
		resp, err := http.Get(bases["plattform02"] + "/r51/status")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	inW.Close()
	line, err := out.ReadBytes('\n')
	if err != nil {
		t.Fatalf("report: %v", err)
	}
	var rep childReport
	if err := json.Unmarshal(line, &rep); err != nil {
		t.Fatalf("report %q: %v", line, err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if n := len(rep.Handler["plattform02"]); n != 2 {
		t.Errorf("%d arrivals at plattform02's handler, want 2 (%v)", n, rep.Handler)
	}
	if len(rep.Wire) > 0 && len(rep.Wire["plattform02"]) != 2 {
		t.Errorf("%d arrivals at plattform02's socket, want 2", len(rep.Wire["plattform02"]))
	}
	if rep.CPUEnd < rep.CPUReady {
		t.Errorf("CPU time %v at the end, before %v at ready", rep.CPUEnd, rep.CPUReady)
	}
}

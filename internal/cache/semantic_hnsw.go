package cache

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
)

// semGraph is a hierarchical navigable small world graph (Malkov and
// Yashunin, "Efficient and robust approximate nearest neighbor search
// using HNSW graphs", 2016) over unit vectors, similarity being the dot
// product. It stands in for github.com/coder/hnsw v0.6.1 (the only
// release), whose search keeps the wrong candidates (its heap's Max is not
// the maximum; fixed upstream in unreleased pull requests 17 and 20-22):
// among 10,000 random 256-dimension vectors it found the stored vector a
// query was made from (similarity 0.96) for 18-29% of queries, and it
// failed TestMemoryIndexGraphFindsTheTrueNearest; its Delete can also
// corrupt the graph (issues 10, 13, 15).
//
// Nodes are never deleted: the owner filters dead ids out of results and
// rebuilds the graph when too many are dead. Add must not run
// concurrently with anything; Searches may run concurrently.
type semGraph struct {
	ids   []uint64
	vecs  [][]float32
	links [][][]semLink // links[node][level]
	entry int           // node searches start from; -1 when empty
	top   int           // entry's level
	rng   *rand.Rand
	marks sync.Pool // *semMarks
}

// Graph parameters: a new node links to semGraphM nodes per level (twice
// as many allowed on level 0), chosen among semGraphEfBuild candidates
// (40 builds twice as fast as 64 for the same recall).
const (
	semGraphM       = 16
	semGraphEfBuild = 40
	semGraphMaxTop  = 16
	// semGraphUpperEf is the beam of a search above level 0.
	semGraphUpperEf = 8
)

// semLink is an edge and the similarity of its two ends.
type semLink struct {
	node int32
	sim  float32
}

// semCand is a node met by a search and its similarity to the query.
type semCand struct {
	node int32
	sim  float32
}

// semMarks records the nodes one search has visited: marks[n] == epoch.
type semMarks struct {
	marks []uint32
	epoch uint32
}

func newSemGraph() *semGraph {
	// A fixed seed: the same vectors build the same graph, so a search's
	// result can be reproduced (levels need to be random, not secret).
	return &semGraph{entry: -1, rng: rand.New(rand.NewPCG(0x51c3, 0x9e37))}
}

// Len returns the number of nodes, dead ones included.
func (g *semGraph) Len() int { return len(g.ids) }

// Add inserts the unit vector vec, which the graph keeps, under id.
func (g *semGraph) Add(id uint64, vec []float32) {
	level := min(int(-math.Log(1-g.rng.Float64())/math.Log(semGraphM)), semGraphMaxTop)
	n := int32(len(g.ids))
	g.ids = append(g.ids, id)
	g.vecs = append(g.vecs, vec)
	g.links = append(g.links, make([][]semLink, level+1))
	if g.entry < 0 {
		g.entry, g.top = int(n), level
		return
	}
	ep := semCand{int32(g.entry), dotF32(vec, g.vecs[g.entry])}
	for l := g.top; l > level; l-- {
		ep = g.greedy(vec, ep, l)
	}
	marks := g.getMarks()
	defer g.marks.Put(marks)
	eps := []semCand{ep}
	for l := min(level, g.top); l >= 0; l-- {
		found := g.searchLayer(vec, eps, semGraphEfBuild, l, marks)
		chosen := g.diverse(found, semGraphM)
		own := make([]semLink, len(chosen))
		for i, c := range chosen {
			own[i] = semLink(c)
			g.link(c.node, semLink{n, c.sim}, l)
		}
		g.links[n][l] = own
		eps = found
	}
	if level > g.top {
		g.entry, g.top = int(n), level
	}
}

// link adds the edge from to l.node on level. When from then has too
// many, its edges are chosen again with the same heuristic as a new
// node's (diverse), rather than dropping the least similar: that keeps
// edges reaching out to other clusters, and a node whose only way in was
// a weak edge stays reachable.
func (g *semGraph) link(from int32, l semLink, level int) {
	max := semGraphM
	if level == 0 {
		max = 2 * semGraphM
	}
	edges := append(g.links[from][level], l)
	if len(edges) > max {
		cands := make([]semCand, len(edges))
		for i, e := range edges {
			cands[i] = semCand(e)
		}
		slices.SortFunc(cands, func(a, b semCand) int { return cmp.Compare(b.sim, a.sim) })
		chosen := g.diverse(cands, max)
		edges = edges[:0]
		for _, c := range chosen {
			edges = append(edges, semLink(c))
		}
	}
	g.links[from][level] = edges
}

// diverse picks up to m of cands (best first) with the paper's heuristic:
// a candidate closer to an already chosen one than to the new node is
// left for last, so edges also reach out to other clusters.
func (g *semGraph) diverse(cands []semCand, m int) []semCand {
	chosen := make([]semCand, 0, m)
	var skipped []semCand
	for _, c := range cands {
		if len(chosen) == m {
			break
		}
		good := true
		for _, s := range chosen {
			if dotF32(g.vecs[c.node], g.vecs[s.node]) > c.sim {
				good = false
				break
			}
		}
		if good {
			chosen = append(chosen, c)
		} else {
			skipped = append(skipped, c)
		}
	}
	for _, c := range skipped {
		if len(chosen) == m {
			break
		}
		chosen = append(chosen, c)
	}
	return chosen
}

// Search returns the ids of up to k nodes most similar to the unit vector
// q, best first, looking at ef candidates on the bottom level.
func (g *semGraph) Search(q []float32, k, ef int) []uint64 {
	if g.entry < 0 {
		return nil
	}
	// A narrow beam (not a single greedy walk) through the upper levels
	// hands level 0 several entry points: on clustered data (a cache's
	// prompts are) one entry point can leave the search in the wrong
	// cluster with nothing better in reach.
	marks := g.getMarks()
	eps := []semCand{{int32(g.entry), dotF32(q, g.vecs[g.entry])}}
	for l := g.top; l > 0; l-- {
		eps = g.searchLayer(q, eps, semGraphUpperEf, l, marks)
	}
	found := g.searchLayer(q, eps, max(ef, k), 0, marks)
	g.marks.Put(marks)
	out := make([]uint64, 0, min(k, len(found)))
	for _, c := range found[:min(k, len(found))] {
		out = append(out, g.ids[c.node])
	}
	return out
}

// greedy walks level from ep to the most similar node it can reach by
// always moving to a better neighbour.
func (g *semGraph) greedy(q []float32, ep semCand, level int) semCand {
	for moved := true; moved; {
		moved = false
		for _, l := range g.links[ep.node][level] {
			if s := dotF32(q, g.vecs[l.node]); s > ep.sim {
				ep, moved = semCand{l.node, s}, true
			}
		}
	}
	return ep
}

// searchLayer is the paper's beam search of one level from eps: it
// returns up to ef nodes most similar to q, best first.
func (g *semGraph) searchLayer(q []float32, eps []semCand, ef, level int, marks *semMarks) []semCand {
	marks.next(len(g.ids))
	var todo, best semHeap // todo: best first (negated); best: worst first
	for _, e := range eps {
		marks.marks[e.node] = marks.epoch
		todo.push(semCand{e.node, -e.sim})
		best.push(e)
	}
	for len(best) > ef {
		best.pop()
	}
	for len(todo) > 0 {
		c := todo.pop()
		if len(best) >= ef && -c.sim < best[0].sim {
			break
		}
		for _, l := range g.links[c.node][level] {
			if marks.marks[l.node] == marks.epoch {
				continue
			}
			marks.marks[l.node] = marks.epoch
			s := dotF32(q, g.vecs[l.node])
			if len(best) < ef || s > best[0].sim {
				todo.push(semCand{l.node, -s})
				best.push(semCand{l.node, s})
				if len(best) > ef {
					best.pop()
				}
			}
		}
	}
	out := []semCand(best)
	slices.SortFunc(out, func(a, b semCand) int {
		switch {
		case a.sim > b.sim:
			return -1
		case a.sim < b.sim:
			return 1
		}
		return 0
	})
	return out
}

func (g *semGraph) getMarks() *semMarks {
	if m, ok := g.marks.Get().(*semMarks); ok {
		return m
	}
	return &semMarks{}
}

// next starts a search over n nodes.
func (m *semMarks) next(n int) {
	if len(m.marks) < n {
		m.marks = append(m.marks, make([]uint32, n-len(m.marks))...)
	}
	m.epoch++
	if m.epoch == 0 {
		clear(m.marks)
		m.epoch = 1
	}
}

// semHeap is a binary min-heap of candidates by sim.
type semHeap []semCand

func (h *semHeap) push(c semCand) {
	*h = append(*h, c)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if s[p].sim <= s[i].sim {
			break
		}
		s[p], s[i] = s[i], s[p]
		i = p
	}
}

func (h *semHeap) pop() semCand {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s = s[:last]
	for i := 0; ; {
		l, small := 2*i+1, i
		if l < len(s) && s[l].sim < s[small].sim {
			small = l
		}
		if r := l + 1; r < len(s) && s[r].sim < s[small].sim {
			small = r
		}
		if small == i {
			break
		}
		s[i], s[small] = s[small], s[i]
		i = small
	}
	*h = s
	return top
}

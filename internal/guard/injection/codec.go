package injection

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// The weight file: magic, bits (1 byte), window (uint16), heuristic count
// (1 byte), bias and heuristic weights (float32 each), the number of
// non-zero bucket weights (uvarint), then each as the gap from the
// previous bucket index (uvarint; the first is the index itself) and the
// weight (float32). Integers and floats are little-endian.
const magic = "SLINJ\x01"

// Limits that ParseModel enforces.
const (
	minBits = 8
	maxBits = 24
)

// MarshalBinary encodes the model in the weight-file format.
func (m *Model) MarshalBinary() ([]byte, error) {
	b := append([]byte(magic), m.bits)
	b = binary.LittleEndian.AppendUint16(b, uint16(m.window))
	b = append(b, numHeur)
	b = binary.LittleEndian.AppendUint32(b, math.Float32bits(m.bias))
	for _, h := range m.heur {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(h))
	}
	nz := 0
	for _, w := range m.w {
		if w != 0 {
			nz++
		}
	}
	b = binary.AppendUvarint(b, uint64(nz))
	prev := 0
	for i, w := range m.w {
		if w == 0 {
			continue
		}
		b = binary.AppendUvarint(b, uint64(i-prev))
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(w))
		prev = i
	}
	return b, nil
}

// ParseModel decodes a weight file written by MarshalBinary. It rejects
// anything malformed: a wrong magic or heuristic count, bits outside
// [8, 24], a zero window, indices out of range or out of order,
// non-finite or zero weights, and trailing bytes.
func ParseModel(b []byte) (*Model, error) {
	r := reader{b: b}
	if string(r.next(len(magic))) != magic {
		return nil, errors.New("injection: weights: bad magic")
	}
	m := &Model{bits: r.byte()}
	m.window = int(binary.LittleEndian.Uint16(r.next(2)))
	nh := r.byte()
	if r.err != nil {
		return nil, r.err
	}
	if m.bits < minBits || m.bits > maxBits || m.window == 0 || nh != numHeur {
		return nil, fmt.Errorf("injection: weights: bad header (bits %d, window %d, heuristics %d)", m.bits, m.window, nh)
	}
	m.mask = 1<<m.bits - 1
	m.bias = r.float()
	for h := range m.heur {
		m.heur[h] = r.float()
	}
	m.w = make([]float32, 1<<m.bits)
	if err := r.weights(m.w); err != nil {
		return nil, err
	}
	return m, nil
}

// reader consumes a weight file, remembering the first error.
type reader struct {
	b   []byte
	err error
}

func (r *reader) next(n int) []byte {
	if r.err != nil || len(r.b) < n {
		r.err = cmpErr(r.err, errors.New("injection: weights: truncated"))
		return make([]byte, n)
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) byte() byte { return r.next(1)[0] }

func (r *reader) float() float32 {
	f := math.Float32frombits(binary.LittleEndian.Uint32(r.next(4)))
	if r.err == nil && (math.IsNaN(float64(f)) || math.IsInf(float64(f), 0)) {
		r.err = errors.New("injection: weights: non-finite weight")
	}
	return f
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errors.New("injection: weights: bad varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

// weights reads the sparse bucket weights into w.
func (r *reader) weights(w []float32) error {
	nz := r.uvarint()
	if r.err == nil && nz > uint64(len(w)) {
		return fmt.Errorf("injection: weights: %d non-zero weights for %d buckets", nz, len(w))
	}
	idx := uint64(0)
	for k := uint64(0); k < nz && r.err == nil; k++ {
		gap := r.uvarint()
		if k > 0 && gap == 0 || gap >= uint64(len(w)) || idx+gap >= uint64(len(w)) {
			return fmt.Errorf("injection: weights: bucket index out of order or range at entry %d", k)
		}
		idx += gap
		if w[idx] = r.float(); r.err == nil && w[idx] == 0 {
			return fmt.Errorf("injection: weights: zero weight stored at bucket %d", idx)
		}
	}
	if r.err != nil {
		return r.err
	}
	if len(r.b) != 0 {
		return fmt.Errorf("injection: weights: %d trailing bytes", len(r.b))
	}
	return nil
}

// cmpErr returns the first non-nil error.
func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

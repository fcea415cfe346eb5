package signaling

import (
	"errors"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/gcc"
	"github.com/pion/rtp"
)

func TestPacer(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		p := newPacer()
		var got interceptor.Attributes
		p.AddStream(7, interceptor.RTPWriterFunc(func(h *rtp.Header, b []byte, a interceptor.Attributes) (int, error) {
			got = a
			return len(b), nil
		}))
		if n, err := p.Write(&rtp.Header{SSRC: 7}, []byte("abc"), nil); n != 3 || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
		if got == nil {
			t.Fatal("the stream's writer got no attributes map to set")
		}
		mine := interceptor.Attributes{"k": 1}
		if _, err := p.Write(&rtp.Header{SSRC: 7}, nil, mine); err != nil || got["k"] != 1 {
			t.Fatalf("the caller's attributes were not passed on: %v %v", got, err)
		}
	})
	t.Run("ErrUnknownStream", func(t *testing.T) {
		if _, err := newPacer().Write(&rtp.Header{SSRC: 9}, nil, nil); !errors.Is(err, gcc.ErrUnknownStream) {
			t.Fatalf("err = %v", err)
		}
	})
	// A write that is slow below the pacer (a full socket, a NACK resend) must not hold up
	// another write on the same connection.
	t.Run("NoLockAcrossWrite", func(t *testing.T) {
		p := newPacer()
		other := make(chan error, 1)
		p.AddStream(2, interceptor.RTPWriterFunc(func(*rtp.Header, []byte, interceptor.Attributes) (int, error) {
			return 0, nil
		}))
		p.AddStream(1, interceptor.RTPWriterFunc(func(*rtp.Header, []byte, interceptor.Attributes) (int, error) {
			go func() { _, err := p.Write(&rtp.Header{SSRC: 2}, nil, nil); other <- err }()
			select {
			case err := <-other:
				return 0, err
			case <-time.After(5 * time.Second):
				return 0, errors.New("a second write waited for the first")
			}
		}))
		if _, err := p.Write(&rtp.Header{SSRC: 1}, nil, nil); err != nil {
			t.Fatal(err)
		}
	})
}

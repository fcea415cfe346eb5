// Package keyframe tells whether an RTP payload starts a keyframe: where a receiver can start
// decoding. The SFU switches a subscriber to another simulcast layer there (signaling), and
// the load tool times a subscriber's first decodable frame by it (loadtest).
package keyframe

// VP8 reports whether a VP8 RTP payload starts a keyframe: it reads the payload descriptor
// (RFC 7741 §4.2) and, at the start of the first partition, the frame header's inverse key
// frame flag (RFC 6386 §9.1).
func VP8(b []byte) bool {
	if len(b) < 1 {
		return false
	}
	x, start, pid := b[0]&0x80 != 0, b[0]&0x10 != 0, b[0]&0x07
	if !start || pid != 0 {
		return false
	}
	i := 1
	if x {
		if len(b) < 2 {
			return false
		}
		ext := b[1]
		i = 2
		if ext&0x80 != 0 { // I: picture ID, 7 or 15 bits
			if len(b) <= i {
				return false
			}
			if b[i]&0x80 != 0 {
				i++
			}
			i++
		}
		if ext&0x40 != 0 { // L: TL0PICIDX
			i++
		}
		if ext&0x30 != 0 { // T or K: TID/Y/KEYIDX
			i++
		}
	}
	return len(b) > i && b[i]&0x01 == 0
}

// H.264 NAL unit types (RFC 6184 §5.2, ITU-T H.264 table 7-1).
const (
	naluIDR   = 5
	naluSPS   = 7
	naluSTAPA = 24
	naluFUA   = 28
)

// H264 reports whether an H.264 RTP payload starts an IDR slice (alone, in a STAP-A
// aggregate, or as the first fragment of an FU-A), and whether it carries a sequence
// parameter set (alone or in a STAP-A). A receiver that has not seen the stream's parameter
// sets, such as a subscriber switched to it from another simulcast layer, can decode from an
// SPS on (the PPS and IDR follow it), not from an IDR alone.
func H264(b []byte) (idr, sps bool) {
	if len(b) < 1 {
		return false, false
	}
	switch typ := b[0] & 0x1f; typ {
	case naluIDR:
		return true, false
	case naluSPS:
		return false, true
	case naluSTAPA:
		for i := 1; i+2 < len(b); {
			size := int(b[i])<<8 | int(b[i+1])
			i += 2
			if size == 0 || i+size > len(b) {
				return false, false
			}
			switch b[i] & 0x1f {
			case naluIDR:
				idr = true
			case naluSPS:
				sps = true
			}
			i += size
		}
		return idr, sps
	case naluFUA:
		return len(b) > 1 && b[1]&0x80 != 0 && b[1]&0x1f == naluIDR, false
	}
	return false, false
}

package signaling

// A simulcast subscriber receives one stream stitched from the layers it is switched between
// (forward.go, writer.rewrite). For VP8 the stitching also covers the payload descriptor's
// picture ID and TL0PICIDX (RFC 7741 §4.2), which each layer's encoder numbers on its own: a
// receiver tracks frames and their references by them (libwebrtc's VP8 reference finder), so
// a jump of thousands at a switch, or a step back, can make it drop frames until the next
// keyframe or ask for one. The writer gives each subscriber's stream one series: at a switch,
// offsets that make the new layer's first frame follow the last one sent, applied to a copy of
// the payload (the publisher's packet is shared by every subscriber).

// vp8Desc is where a VP8 payload descriptor holds the picture ID and TL0PICIDX; 0 for a field
// the descriptor does not carry.
type vp8Desc struct {
	pic  int  // offset of the picture ID
	wide bool // the picture ID has 15 bits (M set), else 7
	tl0  int  // offset of TL0PICIDX
}

// parseVP8 reads the descriptor at the start of a VP8 RTP payload; the zero vp8Desc if it
// carries neither field or is cut short.
func parseVP8(b []byte) vp8Desc {
	if len(b) < 2 || b[0]&0x80 == 0 { // X: no extension, so neither field
		return vp8Desc{}
	}
	var d vp8Desc
	ext, i := b[1], 2
	if ext&0x80 != 0 { // I
		if len(b) <= i {
			return vp8Desc{}
		}
		d.pic = i
		if b[i]&0x80 != 0 { // M
			d.wide = true
			i++
		}
		i++
	}
	if ext&0x40 != 0 { // L
		d.tl0 = i
		i++
	}
	if len(b) < i {
		return vp8Desc{}
	}
	return d
}

// picMask is the picture ID's range: 15 or 7 bits.
func (d vp8Desc) picMask() uint16 {
	if d.wide {
		return 0x7fff
	}
	return 0x7f
}

func (d vp8Desc) picture(b []byte) uint16 {
	if d.wide {
		return uint16(b[d.pic]&0x7f)<<8 | uint16(b[d.pic+1])
	}
	return uint16(b[d.pic] & 0x7f)
}

func (d vp8Desc) setPicture(b []byte, v uint16) {
	if d.wide {
		b[d.pic], b[d.pic+1] = 0x80|byte(v>>8)&0x7f, byte(v)
		return
	}
	b[d.pic] = byte(v) & 0x7f
}

// vp8Series is a subscriber's VP8 series across layers: the offsets added to the current
// layer's picture IDs and TL0PICIDX, and the values last sent. The writer's.
type vp8Series struct {
	picOff, lastPic uint16
	tl0Off, lastTL0 uint8
	sentPic         bool
	sentTL0         bool
}

// follow sets the offsets so that first, the first packet of a keyframe of the layer
// switched to, continues the series: the frame after the last one sent.
func (s *vp8Series) follow(first []byte) {
	d := parseVP8(first)
	if d.pic != 0 && s.sentPic {
		s.picOff = s.lastPic + 1 - d.picture(first)
	}
	if d.tl0 != 0 && s.sentTL0 {
		s.tl0Off = s.lastTL0 + 1 - first[d.tl0]
	}
}

// apply returns payload as the series has it: payload itself while the offsets are 0 or it
// carries neither field, otherwise a copy in scratch with the fields moved by the offsets
// picOff and tl0Off (the series' now, or those a resent packet was first sent with). With
// note, the values sent are remembered as the series' last when they are its newest.
func (s *vp8Series) apply(payload []byte, picOff uint16, tl0Off uint8, scratch []byte, note bool) []byte {
	d := parseVP8(payload)
	if d.pic == 0 && d.tl0 == 0 {
		return payload
	}
	out := payload
	if (picOff != 0 && d.pic != 0 || tl0Off != 0 && d.tl0 != 0) && len(payload) <= len(scratch) {
		out = scratch[:copy(scratch, payload)]
		if d.pic != 0 {
			d.setPicture(out, d.picture(out)+picOff)
		}
		if d.tl0 != 0 {
			out[d.tl0] += tl0Off
		}
	}
	if !note {
		return out
	}
	if d.pic != 0 {
		pic, m := d.picture(out), d.picMask()
		if step := (pic - s.lastPic) & m; !s.sentPic || step != 0 && step <= m/2 {
			s.lastPic, s.sentPic = pic, true
		}
	}
	if d.tl0 != 0 {
		if tl0 := out[d.tl0]; !s.sentTL0 || int8(tl0-s.lastTL0) > 0 {
			s.lastTL0, s.sentTL0 = tl0, true
		}
	}
	return out
}

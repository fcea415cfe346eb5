package recordings

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/at-wat/ebml-go/webm"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
)

// A codec is how the frames of one RTP codec are taken out of packets and put into a
// Matroska track: WebM (VP8, VP9, Opus) or Matroska (H.264). Nothing is re-encoded.
type codec struct {
	mime      string // as in RTP, e.g. video/VP8
	video     bool
	clock     uint32 // RTP clock rate
	codecID   string // Matroska CodecID
	docType   string // webm or matroska
	ext       string // file extension, with the dot
	maxLate   uint16 // packets the sample builder holds while waiting for a late one (video: more than a keyframe has)
	frameTime int64  // a frame's length in RTP ticks when nothing says better (the last one)
	depack    func() rtp.Depacketizer
}

var (
	errCodec    = errors.New("codec not recorded")
	errNotReady = errors.New("no keyframe with the stream's parameters yet")
)

func codecOf(c webrtc.RTPCodecCapability) (*codec, error) {
	clock := c.ClockRate
	switch strings.ToLower(c.MimeType) {
	case strings.ToLower(webrtc.MimeTypeVP8):
		return &codec{mime: webrtc.MimeTypeVP8, video: true, clock: cmp.Or(clock, 90000), codecID: "V_VP8", docType: "webm",
			ext: ".webm", maxLate: 256, frameTime: 3000, depack: func() rtp.Depacketizer { return &codecs.VP8Packet{} }}, nil
	case strings.ToLower(webrtc.MimeTypeVP9):
		return &codec{mime: webrtc.MimeTypeVP9, video: true, clock: cmp.Or(clock, 90000), codecID: "V_VP9", docType: "webm",
			ext: ".webm", maxLate: 256, frameTime: 3000, depack: func() rtp.Depacketizer { return &codecs.VP9Packet{} }}, nil
	case strings.ToLower(webrtc.MimeTypeH264):
		return &codec{mime: webrtc.MimeTypeH264, video: true, clock: cmp.Or(clock, 90000), codecID: "V_MPEG4/ISO/AVC",
			docType: "matroska", ext: ".mkv", maxLate: 256, frameTime: 3000,
			depack: func() rtp.Depacketizer { return &codecs.H264Packet{IsAVC: true} }}, nil
	case strings.ToLower(webrtc.MimeTypeOpus):
		return &codec{mime: webrtc.MimeTypeOpus, clock: cmp.Or(clock, 48000), codecID: "A_OPUS", docType: "webm", ext: ".webm",
			maxLate: 16, frameTime: 960, depack: func() rtp.Depacketizer { return &codecs.OpusPacket{} }}, nil
	}
	return nil, fmt.Errorf("%w: %s", errCodec, c.MimeType)
}

// params is what a video track's header needs from the stream: the picture size, and for
// H.264 the parameter sets. It is learnt from keyframes.
type params struct {
	width, height uint64
	sps, pps      []byte // H.264, without start codes or length prefixes
}

// keyframe reports whether frame (as the depacketizer made it) starts a picture that decodes
// on its own, and updates p from it.
func (c *codec) keyframe(frame []byte, p *params) bool {
	if !c.video {
		return true
	}
	switch c.mime {
	case webrtc.MimeTypeVP8:
		return vp8Key(frame, p)
	case webrtc.MimeTypeVP9:
		return vp9Key(frame, p)
	case webrtc.MimeTypeH264:
		return h264Key(frame, p)
	}
	return false
}

// entry is the Matroska TrackEntry of a segment of track id, or errNotReady.
func (c *codec) entry(id, name string, channels uint16, p params) (webm.TrackEntry, error) {
	h := fnv.New64a()
	h.Write([]byte(id))
	e := webm.TrackEntry{Name: name, TrackNumber: 1, TrackUID: h.Sum64() | 1, CodecID: c.codecID}
	if !c.video {
		if channels == 0 {
			channels = 2
		}
		e.TrackType = 2
		e.Audio = &webm.Audio{SamplingFrequency: float64(c.clock), Channels: uint64(channels)}
		e.CodecPrivate = opusHead(uint8(channels))
		e.SeekPreRoll = 80_000_000 // ns, as the WebM guidelines ask for Opus
		return e, nil
	}
	if p.width == 0 || p.height == 0 {
		return e, errNotReady
	}
	e.TrackType = 1
	e.Video = &webm.Video{PixelWidth: p.width, PixelHeight: p.height}
	if c.mime == webrtc.MimeTypeH264 {
		if p.sps == nil || p.pps == nil {
			return e, errNotReady
		}
		e.CodecPrivate = avcC(p.sps, p.pps)
	}
	return e, nil
}

// opusHead is the Opus identification header (RFC 7845 §5.1), Matroska's A_OPUS CodecPrivate.
// The pre-skip is 0: a WebRTC stream is recorded from the middle, with nothing to trim.
func opusHead(channels uint8) []byte {
	b := []byte("OpusHead")
	b = append(b, 1, channels)
	b = binary.LittleEndian.AppendUint16(b, 0)
	b = binary.LittleEndian.AppendUint32(b, 48000)
	b = binary.LittleEndian.AppendUint16(b, 0)
	return append(b, 0)
}

// vp8Key reads the VP8 frame tag (RFC 6386 §9.1): bit 0 clear is a keyframe, whose header
// carries the size.
func vp8Key(f []byte, p *params) bool {
	if len(f) < 10 || f[0]&1 != 0 {
		return false
	}
	if f[3] == 0x9d && f[4] == 0x01 && f[5] == 0x2a {
		p.width = uint64(binary.LittleEndian.Uint16(f[6:]) & 0x3fff)
		p.height = uint64(binary.LittleEndian.Uint16(f[8:]) & 0x3fff)
	}
	return true
}

// bits reads a bit string MSB first; past the end it reads zeros and sets bad.
type bits struct {
	b   []byte
	pos int
	bad bool
}

func (r *bits) u(n int) uint64 {
	var v uint64
	for range n {
		i := r.pos >> 3
		if i >= len(r.b) {
			r.bad = true
			return 0
		}
		v = v<<1 | uint64(r.b[i]>>(7-r.pos&7)&1)
		r.pos++
	}
	return v
}

// ue reads an Exp-Golomb code (H.264 §9.1).
func (r *bits) ue() uint64 {
	zeros := 0
	for r.u(1) == 0 {
		if zeros++; zeros > 31 || r.bad {
			r.bad = true
			return 0
		}
	}
	return 1<<zeros - 1 + r.u(zeros)
}

func (r *bits) se() int64 {
	v := r.ue()
	if v&1 == 1 {
		return int64(v+1) / 2
	}
	return -int64(v / 2)
}

// vp9Key reads the start of a VP9 uncompressed header (VP9 bitstream spec §6.2): frame_type
// 0 is a keyframe, followed by the colour config and the size.
func vp9Key(f []byte, p *params) bool {
	r := &bits{b: f}
	if r.u(2) != 2 { // frame_marker
		return false
	}
	profile := r.u(1) | r.u(1)<<1
	if profile == 3 {
		r.u(1)
	}
	if r.u(1) == 1 { // show_existing_frame
		return false
	}
	if r.u(1) != 0 { // frame_type: 0 KEY_FRAME
		return false
	}
	r.u(1) // show_frame
	r.u(1) // error_resilient_mode
	if r.u(24) != 0x498342 {
		return false
	}
	if profile >= 2 {
		r.u(1) // ten_or_twelve_bit
	}
	if cs := r.u(3); cs != 7 { // not CS_RGB
		r.u(1) // color_range
		if profile == 1 || profile == 3 {
			r.u(3) // subsampling_x, subsampling_y, reserved_zero
		}
	} else if profile == 1 || profile == 3 {
		r.u(1)
	}
	w, h := r.u(16)+1, r.u(16)+1
	if !r.bad {
		p.width, p.height = w, h
	}
	return !r.bad
}

// h264Key walks the length-prefixed NAL units of an access unit (the depacketizer's AVC
// form): an IDR slice (type 5) makes it a keyframe; SPS (7) and PPS (8) are kept.
func h264Key(f []byte, p *params) bool {
	key := false
	for len(f) >= 4 {
		n := int(binary.BigEndian.Uint32(f))
		f = f[4:]
		if n <= 0 || n > len(f) {
			break
		}
		nal := f[:n]
		f = f[n:]
		switch nal[0] & 0x1f {
		case 5:
			key = true
		case 7:
			if w, h, ok := spsSize(nal); ok {
				p.sps, p.width, p.height = append([]byte(nil), nal...), w, h
			}
		case 8:
			p.pps = append([]byte(nil), nal...)
		}
	}
	return key
}

// unescape removes the emulation prevention bytes (00 00 03) of a NAL unit.
func unescape(nal []byte) []byte {
	out := make([]byte, 0, len(nal))
	zeros := 0
	for _, b := range nal {
		if zeros >= 2 && b == 3 {
			zeros = 0
			continue
		}
		if b == 0 {
			zeros++
		} else {
			zeros = 0
		}
		out = append(out, b)
	}
	return out
}

// spsSize reads the picture size from an H.264 sequence parameter set (H.264 §7.3.2.1.1).
func spsSize(nal []byte) (w, h uint64, ok bool) {
	if len(nal) < 4 {
		return 0, 0, false
	}
	r := &bits{b: unescape(nal[1:])}
	profile := r.u(8)
	r.u(16) // constraint flags, level
	r.ue()  // seq_parameter_set_id
	chroma := uint64(1)
	switch profile {
	case 100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135:
		chroma = r.ue()
		if chroma == 3 {
			r.u(1) // separate_colour_plane_flag
		}
		r.ue()           // bit_depth_luma_minus8
		r.ue()           // bit_depth_chroma_minus8
		r.u(1)           // qpprime_y_zero_transform_bypass_flag
		if r.u(1) == 1 { // seq_scaling_matrix_present_flag
			lists := 8
			if chroma == 3 {
				lists = 12
			}
			for i := range lists {
				if r.u(1) == 0 {
					continue
				}
				size := 16
				if i >= 6 {
					size = 64
				}
				last, next := int64(8), int64(8)
				for range size {
					if next != 0 {
						next = (last + r.se() + 256) % 256
					}
					if next != 0 {
						last = next
					}
				}
			}
		}
	}
	r.ue() // log2_max_frame_num_minus4
	switch r.ue() {
	case 0:
		r.ue() // log2_max_pic_order_cnt_lsb_minus4
	case 1:
		r.u(1)
		r.se()
		r.se()
		for range min(r.ue(), 255) {
			r.se()
		}
	}
	r.ue() // max_num_ref_frames
	r.u(1) // gaps_in_frame_num_value_allowed_flag
	mbW := r.ue() + 1
	mapH := r.ue() + 1
	frameMbsOnly := r.u(1)
	if frameMbsOnly == 0 {
		r.u(1) // mb_adaptive_frame_field_flag
	}
	r.u(1) // direct_8x8_inference_flag
	var cl, cr, ct, cb uint64
	if r.u(1) == 1 {
		cl, cr, ct, cb = r.ue(), r.ue(), r.ue(), r.ue()
	}
	if r.bad {
		return 0, 0, false
	}
	cropX, cropY := uint64(1), 2-frameMbsOnly
	switch chroma {
	case 1:
		cropX, cropY = 2, 2*(2-frameMbsOnly)
	case 2:
		cropX = 2
	}
	w = mbW*16 - cropX*(cl+cr)
	h = (2-frameMbsOnly)*mapH*16 - cropY*(ct+cb)
	return w, h, w > 0 && h > 0 && w < 1<<15 && h < 1<<15
}

// avcC is the AVCDecoderConfigurationRecord (ISO/IEC 14496-15 §5.3.3.1), Matroska's
// V_MPEG4/ISO/AVC CodecPrivate, with 4-byte NAL lengths.
func avcC(sps, pps []byte) []byte {
	b := []byte{1, sps[1], sps[2], sps[3], 0xfc | 3, 0xe0 | 1}
	b = binary.BigEndian.AppendUint16(b, uint16(len(sps)))
	b = append(b, sps...)
	b = append(b, 1)
	b = binary.BigEndian.AppendUint16(b, uint16(len(pps)))
	return append(b, pps...)
}

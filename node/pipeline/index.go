package pipeline

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The lead table keeps, besides its "id" index, one index per order a list
// may ask for (ID, creation, last update, entry into the current stage)
// and per dimension a list may be narrowed by (none, the submitting site,
// the claiming division). Every key of these indexes is
//
//	dimension value | stage (1 byte) | order key
//
// where the order key is the order's time (8 bytes, big-endian, sign bit
// flipped, so bytes order as times do) followed by the lead ID as a site
// code, a zero byte and its number (8 bytes, big-endian), so bytes order
// as [lessID] does. A list reads one such index (for several stages, or
// none given, one run per stage, merged by order key) from a position
// and stops when its page is full: the cost of a page does not depend on
// how many leads there are. The order key alone is the position a page
// token carries, whichever index served the page.

// Order is the order [State.List] returns leads in.
type Order int

const (
	OrderID        Order = iota // lead ID: site, then number
	OrderCreated                // submission time, then ID
	OrderUpdated                // time of the last change, then ID
	OrderStageTime              // time the lead entered its stage, then ID
	numOrders
)

var orderNames = [...]string{"id", "createTime", "updateTime", "stageTime"}

func (o Order) String() string { return enumName(orderNames[:], int(o)) }

// Valid reports whether o is an order.
func (o Order) Valid() bool { return o >= OrderID && o < numOrders }

// dimension is what an order index is narrowed by.
type dimension int

const (
	dimAll      dimension = iota // every lead
	dimSite                      // the submitting site
	dimDivision                  // the claiming division; unclaimed leads are not in it
	numDims
)

// orderIndexer builds the keys of one order index.
type orderIndexer struct {
	dim   dimension
	order Order
}

// appendKey appends l's key to dst, and reports whether l is in the
// index at all.
func (x orderIndexer) appendKey(dst []byte, l *Lead) ([]byte, bool) {
	switch x.dim {
	case dimSite:
		dst = appendDimValue(dst, l.Site)
	case dimDivision:
		if l.Division == "" {
			return dst, false
		}
		dst = appendDimValue(dst, l.Division)
	}
	return appendOrderKey(append(dst, byte(l.Stage)), l, x.order), true
}

// dimValue is the key prefix of a site or division: the code and a zero
// byte, so that BO sorts before BOS and no code's prefix is another's.
func dimValue(code string) []byte { return appendDimValue(nil, code) }

func appendDimValue(dst []byte, code string) []byte { return append(append(dst, code...), 0) }

// orderKey is the part of l's key that orders it; it is also the position
// a page token carries.
func orderKey(l *Lead, o Order) []byte { return appendOrderKey(make([]byte, 0, 24), l, o) }

func appendOrderKey(dst []byte, l *Lead, o Order) []byte {
	var t time.Time
	switch o {
	case OrderID:
		return appendIDKey(dst, l.ID)
	case OrderCreated:
		t = l.Created
	case OrderUpdated:
		t = l.Updated
	case OrderStageTime:
		t = l.StageTime
	}
	return appendIDKey(appendTimeKey(dst, t), l.ID)
}

// timeKey encodes t so that bytes order as times do.
func timeKey(t time.Time) []byte { return appendTimeKey(nil, t) }

func appendTimeKey(dst []byte, t time.Time) []byte {
	return binary.BigEndian.AppendUint64(dst, uint64(t.UnixNano())^1<<63)
}

// idKey encodes a lead ID so that bytes order as [lessID] does: the site
// code, a zero byte, the number in 8 bytes. An ID of another form (never
// assigned by Apply) keeps its bytes.
func idKey(id string) []byte { return appendIDKey(nil, id) }

func appendIDKey(dst []byte, id string) []byte {
	site, num, ok := strings.Cut(id, "-")
	n, err := strconv.ParseUint(num, 10, 64)
	if !ok || err != nil {
		return append(dst, id...)
	}
	return binary.BigEndian.AppendUint64(appendDimValue(dst, site), n)
}

// IDPosition is the position just at lead id in ID order, for resuming a
// list after it (see [Filter.After]).
func IDPosition(id string) []byte { return idKey(id) }

// PositionLeadID returns the lead ID a position in ID order is at, as
// Apply writes IDs (BOS-0001), and whether p is such a position.
func PositionLeadID(p []byte) (string, bool) {
	if !ValidPosition(p, OrderID) {
		return "", false
	}
	i := bytes.IndexByte(p, 0)
	return fmt.Sprintf("%s-%04d", p[:i], binary.BigEndian.Uint64(p[i+1:])), true
}

// positionOf is l's position in order o.
func positionOf(l *Lead, o Order) []byte { return orderKey(l, o) }

// ValidPosition reports whether p could be a position in order o: an ID
// key, after a time for the time orders.
func ValidPosition(p []byte, o Order) bool {
	if o != OrderID {
		if len(p) < 8 {
			return false
		}
		p = p[8:]
	}
	i := bytes.IndexByte(p, 0)
	return i >= 2 && i <= 8 && len(p) == i+9 && siteCodePattern.Match(p[:i])
}

package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// ErrNotDelivered is wrapped by Deliver's error when the receiver
// answered but did not accept the delivery.
var ErrNotDelivered = errors.New("webhook not delivered")

// Deliver posts body with header to url and reports the status. Only a
// 2xx is delivered, and not even that when the body says otherwise as
// WeCom and DingTalk robots do ({"errcode": 310000, ...}). A nil client
// is one with a 30 s timeout that follows no redirects (a redirected
// POST would arrive as a GET). Errors never show the URL's query, where
// robots keep their access token.
func Deliver(ctx context.Context, client *http.Client, url string, body []byte, header http.Header) (status int, err error) {
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("webhook %s: %w", redact(url), unwrapURL(err))
	}
	req.Header = header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	if req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("webhook %s: %w", redact(url), unwrapURL(err))
	}
	defer resp.Body.Close()
	reply, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("webhook %s: %s: %q: %w", redact(url), resp.Status, clip(string(reply), 200), ErrNotDelivered)
	}
	var robot struct {
		ErrCode *int   `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if json.Unmarshal(reply, &robot) == nil && robot.ErrCode != nil && *robot.ErrCode != 0 {
		return resp.StatusCode, fmt.Errorf("webhook %s: errcode %d: %q: %w", redact(url), *robot.ErrCode, robot.ErrMsg, ErrNotDelivered)
	}
	return resp.StatusCode, nil
}

// unwrapURL drops the *url.Error around a client's error, which quotes
// the whole URL.
func unwrapURL(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return ue.Err
	}
	return err
}

// Retries is how many times a failed delivery is retried.
const Retries = 14

// Backoff is the wait before retry attempt (from 1), doubling from 30
// seconds to a cap of 4 hours, the last trimmed so that the waits add up
// to exactly one day:
//
//	retry  wait     since the first try
//	1      30s      30s
//	2      1m       1m30s
//	3      2m       3m30s
//	4      4m       7m30s
//	5      8m       15m30s
//	6      16m      31m30s
//	7      32m      1h03m30s
//	8      1h04m    2h07m30s
//	9      2h08m    4h15m30s
//	10-13  4h       8h15m30s ... 20h15m30s
//	14     3h44m30s 24h
//
// It is 0 for an attempt below 1 or above Retries: give up.
func Backoff(attempt int) time.Duration {
	if attempt < 1 || attempt > Retries {
		return 0
	}
	var total time.Duration
	for i := 1; i < attempt; i++ {
		total += wait(i)
	}
	if attempt == Retries {
		return 24*time.Hour - total
	}
	return wait(attempt)
}

func wait(attempt int) time.Duration {
	const limit = 4 * time.Hour
	if attempt > 10 {
		return limit
	}
	return min(30*time.Second<<(attempt-1), limit)
}

// Jitter is Backoff(attempt) moved by up to ±10%, by an amount derived
// from key: deliveries that failed together (a receiver was down) do not
// all retry at once, and a delivery's schedule is the same on every node
// that computes it.
func Jitter(key string, attempt int) time.Duration {
	d := Backoff(attempt)
	h := fnv.New64a()
	h.Write([]byte(key + "/" + strconv.Itoa(attempt)))
	f := float64(h.Sum64()%2001)/10000 - 0.1 // [-0.1, 0.1]
	return d + time.Duration(float64(d)*f)
}

//go:build !linux

package netwatch

import (
	"context"
	"time"
)

// Watch reports nothing here: it waits for ctx to end.
func Watch(ctx context.Context, quiet, minGap time.Duration, changed func()) error {
	<-ctx.Done()
	return ctx.Err()
}

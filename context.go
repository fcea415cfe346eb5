package chuting

import "context"

type contextKey int

const userContextKey contextKey = iota

// NewContextWithUser returns a copy of ctx that carries the authenticated principal.
func NewContextWithUser(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, userContextKey, p)
}

// UserFromContext returns the authenticated principal carried by ctx, or nil.
func UserFromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(userContextKey).(*Principal)
	return p
}

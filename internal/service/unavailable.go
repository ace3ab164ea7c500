package service

import "github.com/ossd/ossd/internal/meta"

// ErrUnavailable is wrapped by errors that mean the metadata store cannot
// serve right now (its server is down, unreachable or overloaded): the
// HTTP layer answers 503 ServiceUnavailable, which clients retry. It is
// meta's error, named here so that the HTTP layer need not import meta.
var ErrUnavailable = meta.ErrUnavailable

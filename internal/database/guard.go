package database

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"reflect"
	"time"
)

// The MySQL and PostgreSQL drivers are wrapped so that every error a
// statement can return — from Exec, Query, a row being read, Scan, Begin
// or Commit — says when the database stopped answering, in words naming
// the timeout and its setting, rather than "invalid connection" or
// "i/o timeout"; and so that the pool never hands out a connection that
// stalled. The wrappers pass every call through and only look at errors.

// guardConnector wraps a driver.Connector.
type guardConnector struct {
	inner   driver.Connector
	timeout time.Duration
	setting string
}

func (c *guardConnector) Connect(ctx context.Context) (driver.Conn, error) {
	st := &connState{}
	conn, err := c.inner.Connect(context.WithValue(ctx, connStateKey{}, st))
	if err != nil {
		return nil, c.translate(st, err)
	}
	return &guardConn{Conn: conn, st: st, c: c}, nil
}

func (c *guardConnector) Driver() driver.Driver { return c.inner.Driver() }

// translate turns the error of an operation on a connection that stalled
// into a TimeoutError.
func (c *guardConnector) translate(st *connState, err error) error {
	if err == nil || errors.Is(err, driver.ErrSkip) || errors.Is(err, io.EOF) {
		return err
	}
	var te *TimeoutError
	if errors.As(err, &te) {
		return err
	}
	if st.stalled.Load() {
		return &TimeoutError{After: c.timeout, Setting: c.setting, Err: err}
	}
	return err
}

// guardConn wraps a driver.Conn; it implements every optional interface
// database/sql looks for, passing each call to the driver when it
// implements it and answering as database/sql would otherwise.
type guardConn struct {
	driver.Conn
	st *connState
	c  *guardConnector
}

func (g *guardConn) err(err error) error { return g.c.translate(g.st, err) }

func (g *guardConn) Prepare(query string) (driver.Stmt, error) {
	s, err := g.Conn.Prepare(query)
	if err != nil {
		return nil, g.err(err)
	}
	return &guardStmt{Stmt: s, g: g}, nil
}

func (g *guardConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	pc, ok := g.Conn.(driver.ConnPrepareContext)
	if !ok {
		return g.Prepare(query)
	}
	s, err := pc.PrepareContext(ctx, query)
	if err != nil {
		return nil, g.err(err)
	}
	return &guardStmt{Stmt: s, g: g}, nil
}

func (g *guardConn) Begin() (driver.Tx, error) {
	tx, err := g.Conn.Begin()
	if err != nil {
		return nil, g.err(err)
	}
	return &guardTx{Tx: tx, g: g}, nil
}

func (g *guardConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	bt, ok := g.Conn.(driver.ConnBeginTx)
	if !ok {
		return g.Begin()
	}
	tx, err := bt.BeginTx(ctx, opts)
	if err != nil {
		return nil, g.err(err)
	}
	return &guardTx{Tx: tx, g: g}, nil
}

func (g *guardConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	ex, ok := g.Conn.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	res, err := ex.ExecContext(ctx, query, args)
	return res, g.err(err)
}

func (g *guardConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := g.Conn.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	rows, err := q.QueryContext(ctx, query, args)
	if err != nil {
		return nil, g.err(err)
	}
	return &guardRows{Rows: rows, g: g}, nil
}

func (g *guardConn) Ping(ctx context.Context) error {
	if p, ok := g.Conn.(driver.Pinger); ok {
		return g.err(p.Ping(ctx))
	}
	return nil
}

func (g *guardConn) ResetSession(ctx context.Context) error {
	if g.st.stalled.Load() {
		return driver.ErrBadConn
	}
	if r, ok := g.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (g *guardConn) IsValid() bool {
	if g.st.stalled.Load() {
		return false
	}
	if v, ok := g.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (g *guardConn) CheckNamedValue(nv *driver.NamedValue) error {
	if c, ok := g.Conn.(driver.NamedValueChecker); ok {
		return c.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

// guardTx wraps a driver.Tx.
type guardTx struct {
	driver.Tx
	g *guardConn
}

func (t *guardTx) Commit() error   { return t.g.err(t.Tx.Commit()) }
func (t *guardTx) Rollback() error { return t.g.err(t.Tx.Rollback()) }

// guardStmt wraps a driver.Stmt.
type guardStmt struct {
	driver.Stmt
	g *guardConn
}

func (s *guardStmt) Exec(args []driver.Value) (driver.Result, error) {
	res, err := s.Stmt.Exec(args)
	return res, s.g.err(err)
}

func (s *guardStmt) Query(args []driver.Value) (driver.Rows, error) {
	rows, err := s.Stmt.Query(args)
	if err != nil {
		return nil, s.g.err(err)
	}
	return &guardRows{Rows: rows, g: s.g}, nil
}

func (s *guardStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	ex, ok := s.Stmt.(driver.StmtExecContext)
	if !ok {
		vals, err := values(args)
		if err != nil {
			return nil, err
		}
		return s.Exec(vals)
	}
	res, err := ex.ExecContext(ctx, args)
	return res, s.g.err(err)
}

func (s *guardStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := s.Stmt.(driver.StmtQueryContext)
	if !ok {
		vals, err := values(args)
		if err != nil {
			return nil, err
		}
		return s.Query(vals)
	}
	rows, err := q.QueryContext(ctx, args)
	if err != nil {
		return nil, s.g.err(err)
	}
	return &guardRows{Rows: rows, g: s.g}, nil
}

// CheckNamedValue asks the statement, then the connection, as
// database/sql does.
func (s *guardStmt) CheckNamedValue(nv *driver.NamedValue) error {
	if c, ok := s.Stmt.(driver.NamedValueChecker); ok {
		return c.CheckNamedValue(nv)
	}
	return s.g.CheckNamedValue(nv)
}

func values(args []driver.NamedValue) ([]driver.Value, error) {
	out := make([]driver.Value, len(args))
	for i, a := range args {
		if a.Name != "" {
			return nil, errors.New("database: named parameters are not supported by this driver")
		}
		out[i] = a.Value
	}
	return out, nil
}

// guardRows wraps driver.Rows.
type guardRows struct {
	driver.Rows
	g *guardConn
}

func (r *guardRows) Next(dest []driver.Value) error { return r.g.err(r.Rows.Next(dest)) }
func (r *guardRows) Close() error                   { return r.g.err(r.Rows.Close()) }

func (r *guardRows) HasNextResultSet() bool {
	if n, ok := r.Rows.(driver.RowsNextResultSet); ok {
		return n.HasNextResultSet()
	}
	return false
}

func (r *guardRows) NextResultSet() error {
	if n, ok := r.Rows.(driver.RowsNextResultSet); ok {
		return r.g.err(n.NextResultSet())
	}
	return io.EOF
}

func (r *guardRows) ColumnTypeScanType(i int) reflect.Type {
	if c, ok := r.Rows.(driver.RowsColumnTypeScanType); ok {
		return c.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}

func (r *guardRows) ColumnTypeDatabaseTypeName(i int) string {
	if c, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return c.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

func (r *guardRows) ColumnTypeLength(i int) (int64, bool) {
	if c, ok := r.Rows.(driver.RowsColumnTypeLength); ok {
		return c.ColumnTypeLength(i)
	}
	return 0, false
}

func (r *guardRows) ColumnTypeNullable(i int) (bool, bool) {
	if c, ok := r.Rows.(driver.RowsColumnTypeNullable); ok {
		return c.ColumnTypeNullable(i)
	}
	return false, false
}

func (r *guardRows) ColumnTypePrecisionScale(i int) (int64, int64, bool) {
	if c, ok := r.Rows.(driver.RowsColumnTypePrecisionScale); ok {
		return c.ColumnTypePrecisionScale(i)
	}
	return 0, 0, false
}

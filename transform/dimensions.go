package transform

import (
	"context"
	"fmt"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/internal/reference"
)

// Library is one row of the library register.
type Library struct {
	ID           bibstat.LibraryID
	Name         string
	Municipality string // 2024 municipality number, its own field: never derived from ID
	Population   int64  // inhabitants served; 0 means the municipality's
}

// PutLibraries replaces the library register with libs.
func (w *Warehouse) PutLibraries(ctx context.Context, libs []Library) error {
	tx, err := w.DB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("put libraries: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM libraries`); err != nil {
		return fmt.Errorf("put libraries: %w", err)
	}
	for _, l := range libs {
		var pop any
		if l.Population > 0 {
			pop = l.Population
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO libraries VALUES (?, ?, ?, ?, coalesce(?, (SELECT population FROM municipalities WHERE municipality = ?)))`,
			string(l.ID), l.ID.ISIL(), l.Name, l.Municipality, pop, l.Municipality); err != nil {
			return fmt.Errorf("put library %s: %w", l.ID, err)
		}
	}
	return tx.Commit()
}

// putMunicipalities loads the embedded 2024 municipalities.
func (w *Warehouse) putMunicipalities(ctx context.Context) error {
	munis, err := reference.Municipalities()
	if err != nil {
		return err
	}
	tx, err := w.DB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("put municipalities: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM municipalities`); err != nil {
		return fmt.Errorf("put municipalities: %w", err)
	}
	for _, m := range munis {
		if _, err := tx.ExecContext(ctx, `INSERT INTO municipalities VALUES (?, ?, ?, ?, ?)`,
			m.Number, m.Name, m.County, m.CountyName, m.Population); err != nil {
			return fmt.Errorf("put municipality %s: %w", m.Number, err)
		}
	}
	return tx.Commit()
}

-- Human document numbers, gap-free per village, fiscal year and kind (`domain::numbering`): the last number given.
CREATE TABLE document_numbers (
    village_id  TEXT NOT NULL REFERENCES villages(id),
    year        INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    last_number BIGINT NOT NULL CHECK (last_number > 0),
    PRIMARY KEY (village_id, year, kind)
);

ALTER TABLE payments ADD COLUMN number TEXT;

-- Requests made before numbering get their numbers in the order they were made.
WITH n AS (
    SELECT p.id, ROW_NUMBER() OVER (PARTITION BY p.village_id, p.fiscal_year, p.kind ORDER BY p.created_at, p.id) AS rn
    FROM payments p
)
UPDATE payments SET number = (
    SELECT printf('%04d', n.rn) || '/' || CASE payments.kind WHEN 'tax_deposit' THEN 'SSP' ELSE 'SPP' END || '/'
           || v.code || '/' || payments.fiscal_year
    FROM n, villages v WHERE n.id = payments.id AND v.id = payments.village_id
);
INSERT INTO document_numbers (village_id, year, kind, last_number)
    SELECT village_id, fiscal_year, kind, COUNT(*) FROM payments GROUP BY village_id, fiscal_year, kind;

CREATE UNIQUE INDEX payments_number ON payments(village_id, number);

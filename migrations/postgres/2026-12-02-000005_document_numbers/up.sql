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
UPDATE payments p SET number = lpad(n.rn::text, 4, '0') || '/'
       || CASE p.kind WHEN 'tax_deposit' THEN 'SSP' ELSE 'SPP' END || '/' || v.code || '/' || p.fiscal_year
FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY village_id, fiscal_year, kind ORDER BY created_at, id) AS rn
      FROM payments) n, villages v
WHERE n.id = p.id AND v.id = p.village_id;
INSERT INTO document_numbers (village_id, year, kind, last_number)
    SELECT village_id, fiscal_year, kind, COUNT(*) FROM payments GROUP BY village_id, fiscal_year, kind;

CREATE UNIQUE INDEX payments_number ON payments(village_id, number);

-- The names printed in a village's signature blocks (Kepala Desa, Kaur Keuangan), as the regency records them.
CREATE TABLE village_officials (
    village_id  TEXT NOT NULL REFERENCES villages(id),
    office      TEXT NOT NULL CHECK (office IN ('head', 'treasurer')),
    name        TEXT NOT NULL,
    PRIMARY KEY (village_id, office)
);

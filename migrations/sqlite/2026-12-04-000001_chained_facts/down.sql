DROP TABLE chained_facts;

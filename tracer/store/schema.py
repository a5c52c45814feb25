"""The database schema, as numbered migrations run on open and recorded in `schema_migrations`.

A migration is never edited once released: a change to the schema is a new entry at the end.
"""

from __future__ import annotations

MIGRATIONS: list[tuple[int, str, str]] = [
    (
        1,
        "initial schema",
        """
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            dataset TEXT NOT NULL,
            kind TEXT NOT NULL,                 -- scan | refresh
            started_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL,               -- running | ok | partial | failed | interrupted
            requests TEXT NOT NULL DEFAULT '{}',-- {"s2": {"citations": 3}, "openalex": {...}}
            new_papers INTEGER NOT NULL DEFAULT 0,
            stats TEXT NOT NULL DEFAULT '{}',
            error TEXT
        );
        CREATE INDEX runs_dataset ON runs (dataset, id);

        -- One row per origin paper of a dataset, as resolved in each source.
        CREATE TABLE origins (
            dataset TEXT NOT NULL,
            idx INTEGER NOT NULL,               -- position in the catalog entry
            title TEXT,
            s2_paper_id TEXT,
            corpus_id INTEGER,
            openalex_ids TEXT NOT NULL DEFAULT '[]',
            s2_citation_count INTEGER,
            openalex_cited_by_count INTEGER,
            resolved_at TEXT NOT NULL,
            PRIMARY KEY (dataset, idx)
        );

        CREATE TABLE papers (
            id INTEGER PRIMARY KEY,
            title TEXT,
            norm_title TEXT,
            year INTEGER,
            publication_date TEXT,
            venue TEXT,
            abstract TEXT,
            doi TEXT,
            arxiv_id TEXT,
            s2_paper_id TEXT,
            corpus_id INTEGER,
            openalex_id TEXT,
            fields_of_study TEXT NOT NULL DEFAULT '[]',
            authors_source TEXT,                -- s2 | openalex: where the authorships came from
            authors_truncated INTEGER NOT NULL DEFAULT 0,
            enriched_at TEXT,                   -- when OpenAlex authorships were looked up
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX papers_title ON papers (norm_title);

        -- Every id a paper is known under, in every source: the merge joins on these.
        CREATE TABLE paper_ids (
            kind TEXT NOT NULL,                 -- doi | arxiv | s2 | corpus | openalex
            value TEXT NOT NULL,
            paper_id INTEGER NOT NULL REFERENCES papers (id),
            PRIMARY KEY (kind, value)
        );
        CREATE INDEX paper_ids_paper ON paper_ids (paper_id);

        -- A paper found for a dataset, with the usage judgement drawn from its evidence.
        CREATE TABLE dataset_papers (
            dataset TEXT NOT NULL,
            paper_id INTEGER NOT NULL REFERENCES papers (id),
            level TEXT,                         -- used | cited | mentioned (NULL until judged)
            score REAL,
            evidence TEXT NOT NULL DEFAULT '[]',
            reasons TEXT NOT NULL DEFAULT '[]',
            via_derivative TEXT,                -- key of the derived dataset it was found through
            first_run INTEGER NOT NULL,
            last_seen_run INTEGER NOT NULL,
            missing_since_run INTEGER,          -- a later complete run no longer found it
            PRIMARY KEY (dataset, paper_id)
        );

        -- What each route found: a citation (with contexts and intents) or a full-text passage.
        CREATE TABLE evidence (
            dataset TEXT NOT NULL,
            paper_id INTEGER NOT NULL REFERENCES papers (id),
            route TEXT NOT NULL,                -- cites | mentions
            source TEXT NOT NULL,               -- s2 | openalex
            target TEXT NOT NULL,               -- cited origin id, or the search phrase
            via_derivative TEXT NOT NULL DEFAULT '',
            contexts TEXT NOT NULL DEFAULT '[]',
            intents TEXT NOT NULL DEFAULT '[]',
            is_influential INTEGER,
            cites_origin INTEGER,               -- mentions: the passage also cites an origin paper
            last_seen_run INTEGER NOT NULL,
            PRIMARY KEY (dataset, paper_id, route, source, target, via_derivative)
        );

        CREATE TABLE authorships (
            paper_id INTEGER NOT NULL REFERENCES papers (id),
            position INTEGER NOT NULL,
            name TEXT,
            s2_author_id TEXT,
            openalex_author_id TEXT,
            raw_affiliations TEXT NOT NULL DEFAULT '[]',
            institutions TEXT NOT NULL DEFAULT '[]',
            countries TEXT NOT NULL DEFAULT '[]',
            classified INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (paper_id, position)
        );

        CREATE TABLE affiliations (
            paper_id INTEGER NOT NULL,
            position INTEGER NOT NULL,
            idx INTEGER NOT NULL,
            raw TEXT,
            institution_id TEXT,
            institution_name TEXT,
            parent_id TEXT,
            parent_name TEXT,
            country TEXT,
            sector TEXT NOT NULL,
            flags TEXT NOT NULL DEFAULT '[]',
            confidence REAL NOT NULL,
            method TEXT NOT NULL,
            PRIMARY KEY (paper_id, position, idx),
            FOREIGN KEY (paper_id, position) REFERENCES authorships (paper_id, position)
        );
        CREATE INDEX affiliations_institution ON affiliations (institution_id);

        -- What each source could and could not see for a dataset: totals, caps, failures.
        CREATE TABLE coverage (
            dataset TEXT NOT NULL,
            source TEXT NOT NULL,
            route TEXT NOT NULL,
            target TEXT NOT NULL,
            fetched INTEGER NOT NULL,
            total INTEGER,
            capped INTEGER NOT NULL DEFAULT 0,
            note TEXT,
            run_id INTEGER NOT NULL,
            PRIMARY KEY (dataset, source, route, target)
        );
        """,
    ),
    (
        2,
        "runs record the process that ran them",
        """
        ALTER TABLE runs ADD COLUMN pid INTEGER;
        ALTER TABLE runs ADD COLUMN host TEXT
        """,
    ),
    (
        3,
        "origin ids per source, list reads, steps, versions, lookups per source",
        """
        -- An origin paper's ids in one source (the first is the one its lists are read by).
        CREATE TABLE origin_ids (
            slot TEXT NOT NULL,                 -- dataset key, or "parent:derivative"
            idx INTEGER NOT NULL,               -- position in the catalog entry
            source TEXT NOT NULL,
            ids TEXT NOT NULL DEFAULT '[]',
            title TEXT,
            resolved_at TEXT NOT NULL,
            PRIMARY KEY (slot, idx, source)
        );
        INSERT INTO origin_ids (slot, idx, source, ids, title, resolved_at)
            SELECT dataset, idx, 's2', CASE WHEN corpus_id IS NULL THEN json_array(s2_paper_id)
                ELSE json_array(s2_paper_id, 'CorpusId:' || corpus_id) END, title, resolved_at
            FROM origins WHERE s2_paper_id IS NOT NULL;
        INSERT INTO origin_ids (slot, idx, source, ids, title, resolved_at)
            SELECT dataset, idx, 'openalex', openalex_ids, title, resolved_at
            FROM origins WHERE openalex_ids != '[]';
        DROP TABLE origins;

        -- Coverage rows are list reads: with what filters, whether to the end, and the
        -- origins' citation counts at that time (what tells the next run whether it changed).
        -- Rows from before this schema say nothing of completeness: read again once.
        ALTER TABLE coverage ADD COLUMN filters TEXT NOT NULL DEFAULT '{}';
        ALTER TABLE coverage ADD COLUMN complete INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE coverage ADD COLUMN counts TEXT NOT NULL DEFAULT '{}';
        ALTER TABLE coverage ADD COLUMN unresolved INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE coverage ADD COLUMN skipped INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE coverage ADD COLUMN read_at TEXT;
        ALTER TABLE coverage ADD COLUMN full_read_at TEXT;  -- last read in full, unfiltered

        ALTER TABLE runs ADD COLUMN steps TEXT NOT NULL DEFAULT '[]';

        -- The rules and reference data a judgement or a classification was made with.
        ALTER TABLE dataset_papers ADD COLUMN judged_with TEXT;
        ALTER TABLE dataset_papers ADD COLUMN signs TEXT NOT NULL DEFAULT '[]';
        ALTER TABLE authorships ADD COLUMN classified_with TEXT;

        -- Passages keep their own intents, section and kind.
        ALTER TABLE evidence ADD COLUMN passages TEXT NOT NULL DEFAULT '[]';

        -- Whose authorships a paper has, as a rank (the higher wins).
        ALTER TABLE papers ADD COLUMN authors_rank INTEGER NOT NULL DEFAULT 0;
        UPDATE papers SET authors_rank = CASE authors_source
            WHEN 'openalex' THEN 2 WHEN 's2' THEN 1 ELSE 0 END;

        -- Which source has looked a paper up (records, authorships), so that it is asked once.
        CREATE TABLE paper_lookups (
            paper_id INTEGER NOT NULL REFERENCES papers (id),
            source TEXT NOT NULL,
            looked_up_at TEXT NOT NULL,
            PRIMARY KEY (paper_id, source)
        );
        INSERT INTO paper_lookups SELECT id, 'openalex', enriched_at FROM papers
            WHERE enriched_at IS NOT NULL
        """,
    ),
    (
        4,
        "a judgement keeps a digest of what it was drawn from",
        """
        -- blake2b of the dataset's terms, the paper's judged fields and its evidence (run
        -- bookkeeping aside), with the rules' version: the same inputs give the same verdict,
        -- so a later run judges again only the papers whose inputs changed. NULL: unknown.
        ALTER TABLE dataset_papers ADD COLUMN judged_inputs TEXT
        """,
    ),
]

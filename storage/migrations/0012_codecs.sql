-- The registry's JavaScript codecs: a device's model names one (or a native codec). The
-- program's text is stored with it, read from its file or npm package when the registry
-- file was loaded, so that a worker runs it without that file or package.
CREATE TABLE codecs (
    id          text PRIMARY KEY,
    file        text,
    package     text,
    program     text NOT NULL,
    options     jsonb NOT NULL DEFAULT '{}',
    f_ports     integer[],
    channels    jsonb NOT NULL DEFAULT '{}',
    sort_order  integer NOT NULL DEFAULT 0
);

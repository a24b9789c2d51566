-- Every function of functions.sql called, one line of output per result, in a fixed order.
CREATE TEMP TABLE out (line text);
DO $gen$
DECLARE r text;
BEGIN
  FOR i IN 1..20 LOOP
    EXECUTE format('SELECT lc_add_%s(100)::text', i) INTO r;
    INSERT INTO out VALUES (format('add_%s %s', i, r));
    EXECUTE format('SELECT coalesce(lc_tag_%s(%L), %L) || coalesce(lc_tag_%s(NULL), %L)', i, 'x', 'NULL', i, '/NULL') INTO r;
    INSERT INTO out VALUES (format('tag_%s %s', i, r));
    EXECUTE format('SELECT string_agg(coalesce(v::text, %L), %L) FROM lc_spread_%s(ARRAY[1, NULL, 3]) v', 'NULL', ',', i) INTO r;
    INSERT INTO out VALUES (format('spread_%s %s', i, r));
    EXECUTE format('SELECT string_agg(a || %L || b, %L) FROM lc_pairs_%s(3)', ':', ',', i) INTO r;
    INSERT INTO out VALUES (format('pairs_%s %s', i, r));
    EXECUTE format('SELECT (lc_scale_%s(ROW(1.5, -2)::lc_point))::text', i) INTO r;
    INSERT INTO out VALUES (format('scale_%s %s', i, r));
  END LOOP;
END $gen$;
INSERT INTO out SELECT 'shout ' || lc_shout('happy');
INSERT INTO out SELECT 'double ' || lc_double(21);
INSERT INTO out SELECT 'type_of ' || lc_type_of(1.5::numeric) || ' ' || lc_type_of('x'::text);
INSERT INTO out SELECT 'double_sum ' || lc_double_sum(g) FROM generate_series(1, 10) g;
INSERT INTO lc_log (id) VALUES (3);
INSERT INTO out SELECT 'log ' || string_agg(id || '=' || note, ',' ORDER BY id) FROM lc_log;
DELETE FROM lc_log WHERE id = 3;
INSERT INTO out SELECT 'count_log ' || lc_count_log();
INSERT INTO out SELECT 'rows ' || string_agg(r::text, ',') FROM lc_rows(3) r;
INSERT INTO out SELECT 'never_built ' || lc_never_built(10);
DO $$
DECLARE acc int := 1;
BEGIN
  CALL lc_add_to(acc, 2);
  INSERT INTO out VALUES ('add_to ' || acc);
END $$;
SELECT line FROM out ORDER BY line COLLATE "C";

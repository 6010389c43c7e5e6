namespace TimeFusion.Silo.Backend.Catalog;

/// <summary>
/// The shape of the PostgreSQL system catalogs clients read (psql's <c>\dt</c>, <c>\d</c>, <c>\l</c>, <c>\dn</c>,
/// <c>\du</c>; Npgsql's type loading; Grafana's and DBeaver's <c>information_schema</c> browsing), as DuckDB tables in
/// schema <c>tfpg</c> (and <c>tfinfo</c> for <c>information_schema</c>), with the PostgreSQL functions those queries
/// call as macros. Columns follow PostgreSQL 15; relations that describe features TimeFusion has not (indexes,
/// policies, publications, inheritance, extended statistics) exist and are empty, as they would be in PostgreSQL
/// for tables without those features.
/// </summary>
internal static class PgCatalogSchema
{
    /// <summary>The schema holding the pg_catalog relations and functions (first on the search path).</summary>
    public const string CatalogSchema = "tfpg";

    /// <summary>The schema holding the information_schema views.</summary>
    public const string InformationSchema = "tfinfo";

    /// <summary>OID of namespace <c>pg_catalog</c>.</summary>
    public const long PgCatalogNamespace = 11;

    /// <summary>OID of namespace <c>public</c>.</summary>
    public const long PublicNamespace = 2200;

    /// <summary>OID of namespace <c>information_schema</c>.</summary>
    public const long InformationSchemaNamespace = 13181;

    /// <summary>OID of the heap access method.</summary>
    public const long HeapAccessMethod = 2;

    /// <summary>OID of the one database (<c>timefusion</c>).</summary>
    public const long DatabaseOid = 16383;

    /// <summary>OID of <c>array_recv</c>, which Npgsql uses to recognise array types.</summary>
    public const long ArrayRecvProc = 2400;

    /// <summary>Tables and static rows, created once.</summary>
    public const string CreateSql = """
        CREATE SCHEMA tfpg;
        CREATE SCHEMA tfinfo;
        CREATE TYPE tfpg.oid AS BIGINT;
        CREATE TYPE tfpg.name AS VARCHAR;
        CREATE TYPE tfpg.regproc AS VARCHAR;
        CREATE TYPE tfpg.xid AS BIGINT;
        CREATE TYPE tfpg.jsonb AS JSON;
        CREATE TABLE tfpg.pg_namespace(oid BIGINT, nspname VARCHAR, nspowner BIGINT, nspacl VARCHAR[]);
        INSERT INTO tfpg.pg_namespace VALUES (11, 'pg_catalog', 10, NULL), (2200, 'public', 10, NULL), (13181, 'information_schema', 10, NULL);
        CREATE TABLE tfpg.pg_am(oid BIGINT, amname VARCHAR, amhandler VARCHAR, amtype VARCHAR);
        INSERT INTO tfpg.pg_am VALUES (2, 'heap', 'heap_tableam_handler', 't');
        CREATE TABLE tfpg.pg_class(oid BIGINT, relname VARCHAR, relnamespace BIGINT, reltype BIGINT, reloftype BIGINT,
          relowner BIGINT, relam BIGINT, relfilenode BIGINT, reltablespace BIGINT, relpages INTEGER, reltuples REAL,
          relallvisible INTEGER, reltoastrelid BIGINT, relhasindex BOOLEAN, relisshared BOOLEAN, relpersistence VARCHAR,
          relkind VARCHAR, relnatts SMALLINT, relchecks SMALLINT, relhasrules BOOLEAN, relhastriggers BOOLEAN,
          relhassubclass BOOLEAN, relrowsecurity BOOLEAN, relforcerowsecurity BOOLEAN, relispopulated BOOLEAN,
          relreplident VARCHAR, relispartition BOOLEAN, relrewrite BIGINT, relfrozenxid BIGINT, relminmxid BIGINT,
          relacl VARCHAR[], reloptions VARCHAR[], relpartbound VARCHAR);
        CREATE TABLE tfpg.pg_attribute(attrelid BIGINT, attname VARCHAR, atttypid BIGINT, attstattarget INTEGER,
          attlen SMALLINT, attnum SMALLINT, attndims INTEGER, attcacheoff INTEGER, atttypmod INTEGER, attbyval BOOLEAN,
          attalign VARCHAR, attstorage VARCHAR, attcompression VARCHAR, attnotnull BOOLEAN, atthasdef BOOLEAN,
          atthasmissing BOOLEAN, attidentity VARCHAR, attgenerated VARCHAR, attisdropped BOOLEAN, attislocal BOOLEAN,
          attinhcount INTEGER, attcollation BIGINT, attacl VARCHAR[], attoptions VARCHAR[], attfdwoptions VARCHAR[],
          attmissingval VARCHAR);
        CREATE TABLE tfpg.pg_type(oid BIGINT, typname VARCHAR, typnamespace BIGINT, typowner BIGINT, typlen SMALLINT,
          typbyval BOOLEAN, typtype VARCHAR, typcategory VARCHAR, typispreferred BOOLEAN, typisdefined BOOLEAN,
          typdelim VARCHAR, typrelid BIGINT, typsubscript VARCHAR, typelem BIGINT, typarray BIGINT, typinput VARCHAR,
          typoutput VARCHAR, typreceive BIGINT, typsend BIGINT, typmodin BIGINT, typmodout BIGINT, typanalyze BIGINT,
          typalign VARCHAR, typstorage VARCHAR, typnotnull BOOLEAN, typbasetype BIGINT, typtypmod INTEGER,
          typndims INTEGER, typcollation BIGINT, typdefaultbin VARCHAR, typdefault VARCHAR, typacl VARCHAR[],
          tf_sql_name VARCHAR);
        CREATE TABLE tfpg.pg_proc(oid BIGINT, proname VARCHAR, pronamespace BIGINT, proowner BIGINT, prolang BIGINT,
          prokind VARCHAR, proretset BOOLEAN, prorettype BIGINT, pronargs SMALLINT, proargtypes VARCHAR);
        CREATE TABLE tfpg.pg_range(rngtypid BIGINT, rngsubtype BIGINT, rngmultitypid BIGINT, rngcollation BIGINT,
          rngsubopc BIGINT, rngcanonical VARCHAR, rngsubdiff VARCHAR);
        CREATE TABLE tfpg.pg_enum(oid BIGINT, enumtypid BIGINT, enumsortorder REAL, enumlabel VARCHAR);
        CREATE TABLE tfpg.pg_database(oid BIGINT, datname VARCHAR, datdba BIGINT, encoding INTEGER, datlocprovider VARCHAR,
          datistemplate BOOLEAN, datallowconn BOOLEAN, datconnlimit INTEGER, datfrozenxid BIGINT, datminmxid BIGINT,
          dattablespace BIGINT, datcollate VARCHAR, datctype VARCHAR, daticulocale VARCHAR, datcollversion VARCHAR,
          datacl VARCHAR[]);
        INSERT INTO tfpg.pg_database VALUES (16383, 'timefusion', 10, 6, 'c', false, true, -1, 0, 0, 1663, 'C.UTF-8', 'C.UTF-8', NULL, NULL, NULL);
        CREATE TABLE tfpg.pg_roles(rolname VARCHAR, rolsuper BOOLEAN, rolinherit BOOLEAN, rolcreaterole BOOLEAN,
          rolcreatedb BOOLEAN, rolcanlogin BOOLEAN, rolreplication BOOLEAN, rolconnlimit INTEGER, rolpassword VARCHAR,
          rolvaliduntil TIMESTAMPTZ, rolbypassrls BOOLEAN, rolconfig VARCHAR[], oid BIGINT);
        CREATE VIEW tfpg.pg_user AS SELECT rolname AS usename, oid AS usesysid, rolcreatedb AS usecreatedb, rolsuper AS usesuper,
          rolreplication AS userepl, rolbypassrls AS usebypassrls, '********' AS passwd, rolvaliduntil AS valuntil, rolconfig AS useconfig
          FROM tfpg.pg_roles;
        CREATE VIEW tfpg.pg_authid AS SELECT oid, rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin,
          rolreplication, rolbypassrls, rolconnlimit, NULL::VARCHAR AS rolpassword, rolvaliduntil FROM tfpg.pg_roles;
        CREATE TABLE tfpg.pg_auth_members(roleid BIGINT, member BIGINT, grantor BIGINT, admin_option BOOLEAN);
        CREATE TABLE tfpg.pg_attrdef(oid BIGINT, adrelid BIGINT, adnum SMALLINT, adbin VARCHAR);
        CREATE TABLE tfpg.pg_collation(oid BIGINT, collname VARCHAR, collnamespace BIGINT, collowner BIGINT,
          collprovider VARCHAR, collisdeterministic BOOLEAN, collencoding INTEGER, collcollate VARCHAR, collctype VARCHAR);
        INSERT INTO tfpg.pg_collation VALUES (100, 'default', 11, 10, 'd', true, -1, NULL, NULL), (950, 'C', 11, 10, 'c', true, -1, 'C', 'C');
        CREATE TABLE tfpg.pg_policy(oid BIGINT, polname VARCHAR, polrelid BIGINT, polcmd VARCHAR, polpermissive BOOLEAN,
          polroles BIGINT[], polqual VARCHAR, polwithcheck VARCHAR);
        CREATE TABLE tfpg.pg_statistic_ext(oid BIGINT, stxrelid BIGINT, stxname VARCHAR, stxnamespace BIGINT,
          stxowner BIGINT, stxstattarget INTEGER, stxkeys SMALLINT[], stxkind VARCHAR[], stxexprs VARCHAR);
        CREATE TABLE tfpg.pg_publication(oid BIGINT, pubname VARCHAR, pubowner BIGINT, puballtables BOOLEAN,
          pubinsert BOOLEAN, pubupdate BOOLEAN, pubdelete BOOLEAN, pubtruncate BOOLEAN, pubviaroot BOOLEAN);
        CREATE TABLE tfpg.pg_publication_namespace(oid BIGINT, pnpubid BIGINT, pnnspid BIGINT);
        CREATE TABLE tfpg.pg_publication_rel(oid BIGINT, prpubid BIGINT, prrelid BIGINT, prqual VARCHAR, prattrs SMALLINT[]);
        CREATE TABLE tfpg.pg_inherits(inhrelid BIGINT, inhparent BIGINT, inhseqno INTEGER, inhdetachpending BOOLEAN);
        CREATE TABLE tfpg.pg_index(indexrelid BIGINT, indrelid BIGINT, indnatts SMALLINT, indnkeyatts SMALLINT,
          indisunique BOOLEAN, indisprimary BOOLEAN, indisexclusion BOOLEAN, indimmediate BOOLEAN, indisclustered BOOLEAN,
          indisvalid BOOLEAN, indcheckxmin BOOLEAN, indisready BOOLEAN, indislive BOOLEAN, indisreplident BOOLEAN,
          indkey SMALLINT[], indcollation BIGINT[], indclass BIGINT[], indoption SMALLINT[], indexprs VARCHAR, indpred VARCHAR);
        CREATE TABLE tfpg.pg_constraint(oid BIGINT, conname VARCHAR, connamespace BIGINT, contype VARCHAR,
          condeferrable BOOLEAN, condeferred BOOLEAN, convalidated BOOLEAN, conrelid BIGINT, contypid BIGINT,
          conindid BIGINT, conparentid BIGINT, confrelid BIGINT, confupdtype VARCHAR, confdeltype VARCHAR,
          confmatchtype VARCHAR, conislocal BOOLEAN, coninhcount INTEGER, connoinherit BOOLEAN, conkey SMALLINT[],
          confkey SMALLINT[], conbin VARCHAR);
        CREATE TABLE tfpg.pg_trigger(oid BIGINT, tgrelid BIGINT, tgparentid BIGINT, tgname VARCHAR, tgfoid BIGINT,
          tgtype SMALLINT, tgenabled VARCHAR, tgisinternal BOOLEAN);
        CREATE TABLE tfpg.pg_rewrite(oid BIGINT, rulename VARCHAR, ev_class BIGINT, ev_type VARCHAR, ev_enabled VARCHAR,
          is_instead BOOLEAN, ev_qual VARCHAR, ev_action VARCHAR);
        CREATE TABLE tfpg.pg_description(objoid BIGINT, classoid BIGINT, objsubid INTEGER, description VARCHAR);
        CREATE TABLE tfpg.pg_shdescription(objoid BIGINT, classoid BIGINT, description VARCHAR);
        CREATE TABLE tfpg.pg_depend(classid BIGINT, objid BIGINT, objsubid INTEGER, refclassid BIGINT, refobjid BIGINT,
          refobjsubid INTEGER, deptype VARCHAR);
        CREATE TABLE tfpg.pg_extension(oid BIGINT, extname VARCHAR, extowner BIGINT, extnamespace BIGINT,
          extrelocatable BOOLEAN, extversion VARCHAR);
        CREATE TABLE tfpg.pg_tablespace(oid BIGINT, spcname VARCHAR, spcowner BIGINT, spcacl VARCHAR[], spcoptions VARCHAR[]);
        INSERT INTO tfpg.pg_tablespace VALUES (1663, 'pg_default', 10, NULL, NULL);
        CREATE TABLE tfpg.pg_settings(name VARCHAR, setting VARCHAR, unit VARCHAR, category VARCHAR, short_desc VARCHAR,
          context VARCHAR, vartype VARCHAR, source VARCHAR);
        CREATE TABLE tfpg.pg_event_trigger(oid BIGINT, evtname VARCHAR, evtevent VARCHAR, evtowner BIGINT,
          evtfoid BIGINT, evtenabled VARCHAR, evttags VARCHAR[]);
        CREATE TABLE tfpg.pg_foreign_table(ftrelid BIGINT, ftserver BIGINT, ftoptions VARCHAR[]);
        CREATE TABLE tfpg.pg_partitioned_table(partrelid BIGINT, partstrat VARCHAR, partnatts SMALLINT, partdefid BIGINT);
        CREATE TABLE tfpg.pg_sequence(seqrelid BIGINT, seqtypid BIGINT, seqstart BIGINT, seqincrement BIGINT,
          seqmax BIGINT, seqmin BIGINT, seqcache BIGINT, seqcycle BOOLEAN);
        CREATE TABLE tfpg.pg_matviews(schemaname VARCHAR, matviewname VARCHAR, matviewowner VARCHAR, definition VARCHAR);
        """;

    /// <summary>Views over the catalog tables (created after <see cref="MacrosSql"/>, which some of them call).</summary>
    public const string ViewsSql = """
        CREATE VIEW tfpg.pg_tables AS SELECT n.nspname AS schemaname, c.relname AS tablename, tfpg.pg_get_userbyid(c.relowner) AS tableowner,
          NULL::VARCHAR AS tablespace, c.relhasindex AS hasindexes, c.relhasrules AS hasrules, c.relhastriggers AS hastriggers,
          c.relrowsecurity AS rowsecurity
          FROM tfpg.pg_class c JOIN tfpg.pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p');
        CREATE VIEW tfpg.pg_views AS SELECT NULL::VARCHAR AS schemaname, NULL::VARCHAR AS viewname, NULL::VARCHAR AS viewowner,
          NULL::VARCHAR AS definition WHERE false;
        CREATE VIEW tfpg.pg_indexes AS SELECT NULL::VARCHAR AS schemaname, NULL::VARCHAR AS tablename, NULL::VARCHAR AS indexname,
          NULL::VARCHAR AS tablespace, NULL::VARCHAR AS indexdef WHERE false;

        CREATE VIEW tfinfo.schemata AS SELECT 'timefusion' AS catalog_name, nspname AS schema_name,
          tfpg.pg_get_userbyid(nspowner) AS schema_owner, NULL::VARCHAR AS default_character_set_catalog,
          NULL::VARCHAR AS default_character_set_schema, NULL::VARCHAR AS default_character_set_name, NULL::VARCHAR AS sql_path
          FROM tfpg.pg_namespace;
        CREATE VIEW tfinfo.tables AS SELECT 'timefusion' AS table_catalog, n.nspname AS table_schema, c.relname AS table_name,
          CASE c.relkind WHEN 'v' THEN 'VIEW' ELSE 'BASE TABLE' END AS table_type, NULL::VARCHAR AS self_referencing_column_name,
          NULL::VARCHAR AS reference_generation, NULL::VARCHAR AS user_defined_type_catalog, NULL::VARCHAR AS user_defined_type_schema,
          NULL::VARCHAR AS user_defined_type_name, 'YES' AS is_insertable_into, 'NO' AS is_typed, NULL::VARCHAR AS commit_action
          FROM tfpg.pg_class c JOIN tfpg.pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'v');
        CREATE VIEW tfinfo.columns AS SELECT 'timefusion' AS table_catalog, n.nspname AS table_schema, c.relname AS table_name,
          a.attname AS column_name, a.attnum::INTEGER AS ordinal_position, NULL::VARCHAR AS column_default,
          CASE WHEN a.attnotnull THEN 'NO' ELSE 'YES' END AS is_nullable,
          CASE WHEN t.typcategory = 'A' THEN 'ARRAY' ELSE t.tf_sql_name END AS data_type,
          NULL::INTEGER AS character_maximum_length, NULL::INTEGER AS character_octet_length,
          NULL::INTEGER AS numeric_precision, NULL::INTEGER AS numeric_precision_radix, NULL::INTEGER AS numeric_scale,
          CASE WHEN t.typcategory = 'D' THEN 6 END::INTEGER AS datetime_precision, NULL::VARCHAR AS interval_type,
          'timefusion' AS udt_catalog, 'pg_catalog' AS udt_schema, t.typname AS udt_name, 'NO' AS is_identity,
          'NEVER' AS is_generated, 'YES' AS is_updatable
          FROM tfpg.pg_attribute a JOIN tfpg.pg_class c ON c.oid = a.attrelid JOIN tfpg.pg_namespace n ON n.oid = c.relnamespace
          JOIN tfpg.pg_type t ON t.oid = a.atttypid WHERE a.attnum > 0 AND c.relkind IN ('r', 'p', 'v');
        CREATE VIEW tfinfo.views AS SELECT NULL::VARCHAR AS table_catalog, NULL::VARCHAR AS table_schema, NULL::VARCHAR AS table_name,
          NULL::VARCHAR AS view_definition WHERE false;
        CREATE VIEW tfinfo.table_constraints AS SELECT NULL::VARCHAR AS constraint_catalog, NULL::VARCHAR AS constraint_schema,
          NULL::VARCHAR AS constraint_name, NULL::VARCHAR AS table_catalog, NULL::VARCHAR AS table_schema, NULL::VARCHAR AS table_name,
          NULL::VARCHAR AS constraint_type WHERE false;
        CREATE VIEW tfinfo.key_column_usage AS SELECT NULL::VARCHAR AS constraint_catalog, NULL::VARCHAR AS constraint_schema,
          NULL::VARCHAR AS constraint_name, NULL::VARCHAR AS table_catalog, NULL::VARCHAR AS table_schema, NULL::VARCHAR AS table_name,
          NULL::VARCHAR AS column_name, NULL::INTEGER AS ordinal_position WHERE false;
        CREATE VIEW tfinfo.routines AS SELECT NULL::VARCHAR AS specific_schema, NULL::VARCHAR AS routine_name,
          NULL::VARCHAR AS routine_type, NULL::VARCHAR AS data_type WHERE false;
        """;

    /// <summary>
    /// The PostgreSQL functions catalog queries call, as macros on the catalog tables. Macro bodies are expanded into the
    /// calling query, so their subqueries use aliases (<c>__c</c>, <c>__t</c> …) no caller uses.
    /// </summary>
    public const string MacrosSql = """
        CREATE MACRO tfpg.pg_get_userbyid(id) AS COALESCE((SELECT __r.rolname FROM tfpg.pg_roles __r WHERE __r.oid = id), 'unknown (OID=' || id || ')');
        CREATE MACRO tfpg.pg_table_is_visible(id) AS EXISTS (SELECT 1 FROM tfpg.pg_class __c WHERE __c.oid = id AND __c.relnamespace IN (11, 2200));
        CREATE MACRO tfpg.pg_type_is_visible(id) AS EXISTS (SELECT 1 FROM tfpg.pg_type __t WHERE __t.oid = id);
        CREATE MACRO tfpg.pg_function_is_visible(id) AS true;
        CREATE MACRO tfpg.format_type(id, typmod) AS (SELECT __t.tf_sql_name FROM tfpg.pg_type __t WHERE __t.oid = id);
        CREATE MACRO tfpg.tf_regclass_in(n) AS (SELECT __c.oid FROM tfpg.pg_class __c WHERE __c.relname = n OR 'public.' || __c.relname = n OR '"' || __c.relname || '"' = n);
        CREATE MACRO tfpg.tf_regclass_out(id) AS COALESCE((SELECT __c.relname FROM tfpg.pg_class __c WHERE __c.oid = id), CAST(id AS VARCHAR));
        CREATE MACRO tfpg.tf_regtype_in(n) AS (SELECT __t.oid FROM tfpg.pg_type __t WHERE __t.typname = n OR __t.tf_sql_name = n);
        CREATE MACRO tfpg.tf_regtype_out(id) AS COALESCE(tfpg.format_type(id, NULL), CAST(id AS VARCHAR));
        CREATE MACRO tfpg.tf_regnamespace_in(n) AS (SELECT __s.oid FROM tfpg.pg_namespace __s WHERE __s.nspname = n);
        CREATE MACRO tfpg.tf_regnamespace_out(id) AS COALESCE((SELECT __s.nspname FROM tfpg.pg_namespace __s WHERE __s.oid = id), CAST(id AS VARCHAR));
        CREATE MACRO tfpg.tf_regproc_in(n) AS regexp_replace(CAST(n AS VARCHAR), '^pg_catalog\.', '');
        CREATE MACRO tfpg.tf_regproc_out(id) AS COALESCE((SELECT __p.proname FROM tfpg.pg_proc __p WHERE CAST(__p.oid AS VARCHAR) = CAST(id AS VARCHAR)), CAST(id AS VARCHAR));
        CREATE MACRO tfinfo._pg_expandarray(a) AS unnest(list_transform(range(1, len(a) + 1), __i -> {'x': a[__i], 'n': CAST(__i AS INTEGER)}));
        CREATE MACRO tfpg.tf_regrole_in(n) AS (SELECT __r.oid FROM tfpg.pg_roles __r WHERE __r.rolname = n);
        CREATE MACRO tfpg.tf_regrole_out(id) AS COALESCE((SELECT __r.rolname FROM tfpg.pg_roles __r WHERE __r.oid = id), CAST(id AS VARCHAR));
        CREATE MACRO tfpg.pg_get_expr(expr, relation) AS CAST(NULL AS VARCHAR), (expr, relation, pretty) AS CAST(NULL AS VARCHAR);
        CREATE MACRO tfpg.pg_get_indexdef(id) AS CAST(NULL AS VARCHAR), (id, col, pretty) AS CAST(NULL AS VARCHAR);
        CREATE MACRO tfpg.pg_get_constraintdef(id) AS CAST(NULL AS VARCHAR), (id, pretty) AS CAST(NULL AS VARCHAR);
        CREATE MACRO tfpg.pg_get_viewdef(id) AS CAST(NULL AS VARCHAR), (id, pretty) AS CAST(NULL AS VARCHAR);
        CREATE MACRO tfpg.pg_get_statisticsobjdef_columns(id) AS CAST(NULL AS VARCHAR);
        CREATE MACRO tfpg.pg_get_triggerdef(id) AS CAST(NULL AS VARCHAR), (id, pretty) AS CAST(NULL AS VARCHAR);
        CREATE MACRO tfpg.pg_get_function_result(id) AS CAST(NULL AS VARCHAR);
        CREATE MACRO tfpg.pg_get_function_arguments(id) AS CAST(NULL AS VARCHAR);
        CREATE MACRO tfpg.pg_relation_is_publishable(id) AS false;
        CREATE MACRO tfpg.pg_encoding_to_char(e) AS CASE e WHEN 6 THEN 'UTF8' WHEN 0 THEN 'SQL_ASCII' ELSE '' END;
        CREATE MACRO tfpg.obj_description(id) AS (SELECT __d.description FROM tfpg.pg_description __d WHERE __d.objoid = id AND __d.objsubid = 0 LIMIT 1),
          (id, catalog) AS (SELECT __d.description FROM tfpg.pg_description __d WHERE __d.objoid = id AND __d.objsubid = 0 LIMIT 1);
        CREATE MACRO tfpg.col_description(id, col) AS (SELECT __d.description FROM tfpg.pg_description __d WHERE __d.objoid = id AND __d.objsubid = col LIMIT 1);
        CREATE MACRO tfpg.shobj_description(id, catalog) AS (SELECT __d.description FROM tfpg.pg_shdescription __d WHERE __d.objoid = id LIMIT 1);
        CREATE MACRO tfpg.has_table_privilege(a, b) AS true, (a, b, c) AS true;
        CREATE MACRO tfpg.has_schema_privilege(a, b) AS true, (a, b, c) AS true;
        CREATE MACRO tfpg.has_database_privilege(a, b) AS true, (a, b, c) AS true;
        CREATE MACRO tfpg.has_column_privilege(a, b, c) AS true, (a, b, c, d) AS true;
        CREATE MACRO tfpg.pg_has_role(a, b) AS true, (a, b, c) AS true;
        CREATE MACRO tfpg.array_upper(a, dim) AS CASE WHEN dim = 1 AND len(a) > 0 THEN len(a) END;
        CREATE MACRO tfpg.array_lower(a, dim) AS CASE WHEN dim = 1 AND len(a) > 0 THEN 1 END;
        CREATE MACRO tfpg.array_length(a, dim) AS CASE WHEN dim = 1 AND len(a) > 0 THEN len(a) END;
        CREATE MACRO tfpg.quote_ident(s) AS CASE WHEN regexp_full_match(s, '[a-z_][a-z0-9_$]*') THEN s ELSE '"' || replace(s, '"', '""') || '"' END;
        CREATE MACRO tfpg.current_schemas(include_implicit) AS CASE WHEN include_implicit THEN ['pg_catalog', 'public'] ELSE ['public'] END;
        CREATE MACRO tfpg.pg_total_relation_size(id) AS CAST(NULL AS BIGINT);
        CREATE MACRO tfpg.pg_relation_size(id) AS CAST(NULL AS BIGINT), (id, fork) AS CAST(NULL AS BIGINT);
        CREATE MACRO tfpg.pg_table_size(id) AS CAST(NULL AS BIGINT);
        CREATE MACRO tfpg.pg_database_size(id) AS CAST(NULL AS BIGINT);
        CREATE MACRO tfpg.pg_size_pretty(n) AS CAST(n AS VARCHAR) || ' bytes';
        CREATE MACRO tfpg.pg_is_in_recovery() AS false;
        CREATE MACRO tfpg.current_database() AS 'timefusion';
        CREATE MACRO tfpg.current_schema() AS 'public';
        CREATE MACRO tfpg.pg_get_serial_sequence(t, c) AS CAST(NULL AS VARCHAR);
        """;
}

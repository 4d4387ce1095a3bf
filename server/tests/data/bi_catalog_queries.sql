-- BI-tool catalog / connect-time SQL corpus for ordergraph (PostgreSQL wire emulation).
-- Collected from the tools' own source code (pgjdbc, Metabase, DBeaver, SQLAlchemy+psycopg2 as used by Superset,
-- Npgsql as used by Power BI, Grafana). Format, per entry:
--   leading metadata lines '-- name: ', '-- source: ', optional '-- reconstructed: ' (SQL rendered by running the
--   tool's query builder, not copied from a literal), '-- note: ' (may repeat), then the SQL text.
--   Every line after the metadata lines, up to and including the first line whose last character is ';', is SQL;
--   the SQL itself may contain '--' comment lines (Npgsql, Grafana ping). Entries are separated by one blank line.
--   The final ';' is a terminator added for this file (where the tool's own text already ends with ';', that ';' is it).
-- Bind parameters were replaced by literals: database 'ordergraph', schema 'public' (oid 2200), table 'orders' (oid 16384).
-- Whitespace-only lines inside statements were removed and trailing blanks trimmed; nothing else was changed.
-- This header block has no SQL and should be skipped by the parser.

-- name: pgjdbc/startup-set-application-name
-- source: pgjdbc/pgjdbc REL42.7.12 pgjdbc/src/main/java/org/postgresql/core/v3/ConnectionFactoryImpl.java (runInitialQueries)
-- note: simple query sent right after ReadyForQuery when the server reports server_version >= 12 and assumeMinServerVersion is unset (the default);
-- note: value is the ApplicationName property: default 'PostgreSQL JDBC Driver'; Metabase sets 'Metabase v0.62.1.5 [<uuid>]', DBeaver later re-sends it via setClientInfo as 'DBeaver 24.2.3 - Main <ordergraph>'
SET application_name = 'PostgreSQL JDBC Driver';

-- name: pgjdbc/startup-set-extra-float-digits-pre-pg12
-- source: pgjdbc/pgjdbc REL42.7.12 pgjdbc/src/main/java/org/postgresql/core/v3/ConnectionFactoryImpl.java (runInitialQueries)
-- note: ONE simple-query message holding TWO statements; only sent if the server reports a server_version between 9.0 and 11.x
-- note: (< 9.0, or an unparsable version, gives 'SET extra_float_digits = 2' instead: the datafusion-postgres test log for Metabase v0.55 shows that variant)
SET extra_float_digits = 3;SET application_name = 'PostgreSQL JDBC Driver';

-- name: pgjdbc/show-transaction-isolation
-- source: pgjdbc/pgjdbc REL42.7.12 pgjdbc/src/main/java/org/postgresql/jdbc/PgConnection.java (getTransactionIsolation)
-- note: simple query; Metabase and DBeaver both call Connection.getTransactionIsolation() right after connecting
SHOW TRANSACTION ISOLATION LEVEL;

-- name: pgjdbc/current-catalog
-- source: pgjdbc/pgjdbc REL42.7.12 pgjdbc/src/main/java/org/postgresql/jdbc/PgConnection.java (getCatalog)
-- note: sent once per connection before the first DatabaseMetaData call (getColumns/getPrimaryKeys/... compare the catalog argument with it); current_catalog is an SQL keyword function WITHOUT parentheses
select current_catalog;

-- name: pgjdbc/getSchemas
-- source: pgjdbc/pgjdbc REL42.7.12 pgjdbc/src/main/java/org/postgresql/jdbc/PgDatabaseMetaData.java (getSchemas)
-- note: Metabase calls getSchemas() with no pattern at every sync (this exact text); with a schemaPattern pgjdbc appends " AND nspname LIKE ?" before ORDER BY
-- note: uses an array subscript on a function result: (pg_catalog.current_schemas(true))[1]
SELECT nspname AS "TABLE_SCHEM", current_database() AS "TABLE_CATALOG" FROM pg_catalog.pg_namespace  WHERE nspname <> 'pg_toast' AND (nspname !~ '^pg_temp_'  OR nspname = (pg_catalog.current_schemas(true))[1]) AND (nspname !~ '^pg_toast_temp_'  OR nspname = replace((pg_catalog.current_schemas(true))[1], 'pg_temp_', 'pg_toast_temp_'))  ORDER BY "TABLE_SCHEM";

-- name: pgjdbc/getColumns
-- source: pgjdbc/pgjdbc REL42.7.12 pgjdbc/src/main/java/org/postgresql/jdbc/PgDatabaseMetaData.java (getColumns)
-- note: prepared statement, $1='public' $2='orders' (LIKE patterns) substituted; Metabase sends it during sync (seen in a v0.62 capture) and DBeaver's generic paths too
-- note: uses a window function in a derived table, pg_get_expr, and a derived table alias 'c' that shadows pg_class alias 'c' in the outer ORDER BY (c.relname)
SELECT * FROM (SELECT current_database() AS current_database, n.nspname,c.relname,a.attname,a.atttypid,a.attnotnull  OR (t.typtype = 'd' AND t.typnotnull) AS attnotnull,a.atttypmod,a.attlen,t.typtypmod,row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum) AS attnum, nullif(a.attidentity, '') as attidentity,nullif(a.attgenerated, '') as attgenerated,pg_catalog.pg_get_expr(def.adbin, def.adrelid) AS adsrc,dsc.description,t.typbasetype,t.typtype  FROM pg_catalog.pg_namespace n  JOIN pg_catalog.pg_class c ON (c.relnamespace = n.oid)  JOIN pg_catalog.pg_attribute a ON (a.attrelid=c.oid)  JOIN pg_catalog.pg_type t ON (a.atttypid = t.oid)  LEFT JOIN pg_catalog.pg_attrdef def ON (a.attrelid=def.adrelid AND a.attnum = def.adnum)  LEFT JOIN pg_catalog.pg_description dsc ON (c.oid=dsc.objoid AND a.attnum = dsc.objsubid)  LEFT JOIN pg_catalog.pg_class dc ON (dc.oid=dsc.classoid AND dc.relname='pg_class')  LEFT JOIN pg_catalog.pg_namespace dn ON (dc.relnamespace=dn.oid AND dn.nspname='pg_catalog')  WHERE c.relkind in ('r','p','v','f','m') and a.attnum > 0 AND NOT a.attisdropped  AND n.nspname LIKE 'public' AND c.relname LIKE 'orders') c WHERE true  ORDER BY nspname,c.relname,attnum;

-- name: pgjdbc/getPrimaryKeys
-- source: pgjdbc/pgjdbc REL42.7.12 pgjdbc/src/main/java/org/postgresql/jdbc/PgDatabaseMetaData.java (getPrimaryKeys)
-- note: prepared statement, $1='public' $2='orders' substituted; identical text seen in a Metabase v0.62 sync capture (one call per table)
-- note: composite-returning set function in the select list: information_schema._pg_expandarray(i.indkey) and field access (...).n / (result.KEYS).x; note the missing space before FROM ("PK_NAME"FROM)
-- note: pgjdbc 42.7.13 (July 2026) replaced this with a pg_constraint.conkey variant: ... FROM pg_catalog.pg_constraint con JOIN pg_catalog.pg_class ct ON (con.conrelid = ct.oid) ... WHERE con.contype = 'p' ...
SELECT        result.TABLE_CAT AS "TABLE_CAT",        result.TABLE_SCHEM AS "TABLE_SCHEM",        result.TABLE_NAME AS "TABLE_NAME",        result.COLUMN_NAME AS "COLUMN_NAME",        result.KEY_SEQ AS "KEY_SEQ",        result.PK_NAME AS "PK_NAME"FROM      (SELECT current_database() AS TABLE_CAT, n.nspname AS TABLE_SCHEM,   ct.relname AS TABLE_NAME, a.attname AS COLUMN_NAME,   (information_schema._pg_expandarray(i.indkey)).n AS KEY_SEQ, ci.relname AS PK_NAME,   information_schema._pg_expandarray(i.indkey) AS KEYS, a.attnum AS A_ATTNUM, i.indnkeyatts as KEY_COUNT FROM pg_catalog.pg_class ct   JOIN pg_catalog.pg_attribute a ON (ct.oid = a.attrelid)   JOIN pg_catalog.pg_namespace n ON (ct.relnamespace = n.oid)   JOIN pg_catalog.pg_index i ON ( a.attrelid = i.indrelid)   JOIN pg_catalog.pg_class ci ON (ci.oid = i.indexrelid) WHERE true  AND n.nspname = 'public' AND ct.relname = 'orders' AND i.indisprimary  ) result where  result.A_ATTNUM = (result.KEYS).x AND result.KEY_SEQ <= KEY_COUNT  ORDER BY result.table_name, result.pk_name, result.key_seq;

-- name: pgjdbc/getIndexInfo
-- source: pgjdbc/pgjdbc REL42.7.12 pgjdbc/src/main/java/org/postgresql/jdbc/PgDatabaseMetaData.java (getIndexInfo, server >= 9.6, unique=false)
-- note: prepared statement, $1='public' $2='orders' substituted; DatabaseMetaData constants inlined as 1/2/3
-- note: array subscript with arithmetic on an int2vector (I_INDOPTION[tmp.ORDINAL_POSITION - 1] & 1::smallint), _pg_expandarray(...).n, pg_get_indexdef(oid,int,bool), upper-case unquoted aliases folded to lower case
SELECT     tmp.TABLE_CAT AS "TABLE_CAT",     tmp.TABLE_SCHEM AS "TABLE_SCHEM",     tmp.TABLE_NAME AS "TABLE_NAME",     tmp.NON_UNIQUE AS "NON_UNIQUE",     tmp.INDEX_QUALIFIER AS "INDEX_QUALIFIER",     tmp.INDEX_NAME AS "INDEX_NAME",     tmp.TYPE AS "TYPE",     tmp.ORDINAL_POSITION AS "ORDINAL_POSITION",     trim(both '"' from pg_catalog.pg_get_indexdef(tmp.CI_OID, tmp.ORDINAL_POSITION, false)) AS "COLUMN_NAME",   CASE tmp.AM_NAME     WHEN 'btree' THEN CASE tmp.I_INDOPTION[tmp.ORDINAL_POSITION - 1] & 1::smallint       WHEN 1 THEN 'D'       ELSE 'A'     END     ELSE NULL   END AS "ASC_OR_DESC",     tmp.CARDINALITY AS "CARDINALITY",     tmp.PAGES AS "PAGES",     tmp.FILTER_CONDITION AS "FILTER_CONDITION",     tmp.REMARKS AS "REMARKS"FROM (SELECT current_database() AS TABLE_CAT,  n.nspname AS TABLE_SCHEM,   ct.relname AS TABLE_NAME, NOT i.indisunique AS NON_UNIQUE,   NULL AS INDEX_QUALIFIER, ci.relname AS INDEX_NAME,   CASE i.indisclustered     WHEN true THEN 1    ELSE CASE am.amname       WHEN 'hash' THEN 2      ELSE 3    END   END AS TYPE,   (information_schema._pg_expandarray(i.indkey)).n AS ORDINAL_POSITION,   ci.reltuples AS CARDINALITY,   ci.relpages AS PAGES,   pg_catalog.pg_get_expr(i.indpred, i.indrelid) AS FILTER_CONDITION,   ci.oid AS CI_OID,   i.indoption AS I_INDOPTION,   am.amname AS AM_NAME,   d.description AS REMARKS FROM pg_catalog.pg_class ct   JOIN pg_catalog.pg_namespace n ON (ct.relnamespace = n.oid)   JOIN pg_catalog.pg_index i ON (ct.oid = i.indrelid)   JOIN pg_catalog.pg_class ci ON (ci.oid = i.indexrelid)   JOIN pg_catalog.pg_am am ON (ci.relam = am.oid)   LEFT JOIN pg_catalog.pg_description d ON (ci.oid = d.objoid) WHERE true  AND n.nspname = 'public' AND ct.relname = 'orders') AS tmp ORDER BY "NON_UNIQUE", "TYPE", "INDEX_NAME", "ORDINAL_POSITION";

-- name: pgjdbc/getSQLKeywords
-- source: pgjdbc/pgjdbc REL42.7.12 pgjdbc/src/main/java/org/postgresql/jdbc/PgDatabaseMetaData.java (getSQLKeywords)
-- note: DBeaver calls DatabaseMetaData.getSQLKeywords() while initialising its SQL dialect (JDBCSQLDialect.initDriverSettings); set-returning pg_get_keywords(), string_agg, <> ALL over a '{...}'::text[] literal
select string_agg(word, ',') from pg_catalog.pg_get_keywords() where word <> ALL ('{a,abs,absolute,action,ada,add,admin,after,all,allocate,alter,always,and,any,are,array,as,asc,asensitive,assertion,assignment,asymmetric,at,atomic,attribute,attributes,authorization,avg,before,begin,bernoulli,between,bigint,binary,blob,boolean,both,breadth,by,c,call,called,cardinality,cascade,cascaded,case,cast,catalog,catalog_name,ceil,ceiling,chain,char,char_length,character,character_length,character_set_catalog,character_set_name,character_set_schema,characteristics,characters,check,checked,class_origin,clob,close,coalesce,cobol,code_units,collate,collation,collation_catalog,collation_name,collation_schema,collect,column,column_name,command_function,command_function_code,commit,committed,condition,condition_number,connect,connection_name,constraint,constraint_catalog,constraint_name,constraint_schema,constraints,constructors,contains,continue,convert,corr,corresponding,count,covar_pop,covar_samp,create,cross,cube,cume_dist,current,current_collation,current_date,current_default_transform_group,current_path,current_role,current_time,current_timestamp,current_transform_group_for_type,current_user,cursor,cursor_name,cycle,data,date,datetime_interval_code,datetime_interval_precision,day,deallocate,dec,decimal,declare,default,defaults,deferrable,deferred,defined,definer,degree,delete,dense_rank,depth,deref,derived,desc,describe,descriptor,deterministic,diagnostics,disconnect,dispatch,distinct,domain,double,drop,dynamic,dynamic_function,dynamic_function_code,each,element,else,end,end-exec,equals,escape,every,except,exception,exclude,excluding,exec,execute,exists,exp,external,extract,false,fetch,filter,final,first,float,floor,following,for,foreign,fortran,found,free,from,full,function,fusion,g,general,get,global,go,goto,grant,granted,group,grouping,having,hierarchy,hold,hour,identity,immediate,implementation,in,including,increment,indicator,initially,inner,inout,input,insensitive,insert,instance,instantiable,int,integer,intersect,intersection,interval,into,invoker,is,isolation,join,k,key,key_member,key_type,language,large,last,lateral,leading,left,length,level,like,ln,local,localtime,localtimestamp,locator,lower,m,map,match,matched,max,maxvalue,member,merge,message_length,message_octet_length,message_text,method,min,minute,minvalue,mod,modifies,module,month,more,multiset,mumps,name,names,national,natural,nchar,nclob,nesting,new,next,no,none,normalize,normalized,not,"null",nullable,nullif,nulls,number,numeric,object,octet_length,octets,of,old,on,only,open,option,options,or,order,ordering,ordinality,others,out,outer,output,over,overlaps,overlay,overriding,pad,parameter,parameter_mode,parameter_name,parameter_ordinal_position,parameter_specific_catalog,parameter_specific_name,parameter_specific_schema,partial,partition,pascal,path,percent_rank,percentile_cont,percentile_disc,placing,pli,position,power,preceding,precision,prepare,preserve,primary,prior,privileges,procedure,public,range,rank,read,reads,real,recursive,ref,references,referencing,regr_avgx,regr_avgy,regr_count,regr_intercept,regr_r2,regr_slope,regr_sxx,regr_sxy,regr_syy,relative,release,repeatable,restart,result,return,returned_cardinality,returned_length,returned_octet_length,returned_sqlstate,returns,revoke,right,role,rollback,rollup,routine,routine_catalog,routine_name,routine_schema,row,row_count,row_number,rows,savepoint,scale,schema,schema_name,scope_catalog,scope_name,scope_schema,scroll,search,second,section,security,select,self,sensitive,sequence,serializable,server_name,session,session_user,set,sets,similar,simple,size,smallint,some,source,space,specific,specific_name,specifictype,sql,sqlexception,sqlstate,sqlwarning,sqrt,start,state,statement,static,stddev_pop,stddev_samp,structure,style,subclass_origin,submultiset,substring,sum,symmetric,system,system_user,table,table_name,tablesample,temporary,then,ties,time,timestamp,timezone_hour,timezone_minute,to,top_level_count,trailing,transaction,transaction_active,transactions_committed,transactions_rolled_back,transform,transforms,translate,translation,treat,trigger,trigger_catalog,trigger_name,trigger_schema,trim,true,type,uescape,unbounded,uncommitted,under,union,unique,unknown,unnamed,unnest,update,upper,usage,user,user_defined_type_catalog,user_defined_type_code,user_defined_type_name,user_defined_type_schema,using,value,values,var_pop,var_samp,varchar,varying,view,when,whenever,where,width_bucket,window,with,within,without,work,write,year,zone}'::text[]);

-- name: pgjdbc/typeinfo-sqltype-by-oid
-- source: pgjdbc/pgjdbc REL42.7.12 pgjdbc/src/main/java/org/postgresql/jdbc/TypeInfoCache.java (getSQLTypeQuery, used by getSQLType(int oid))
-- note: prepared statement, $1=16384 substituted (example oid); sent whenever a result column / getColumns row has a type oid that is not in pgjdbc's built-in table (e.g. an emulated type with a non-standard oid)
-- note: the trailing ';' is part of the SQL pgjdbc sends; 'x'::regproc cast, array subscript with a column index (current_schemas(false))[s.r], generate_series in FROM with column alias s(r), JOIN ... USING
SELECT typinput='pg_catalog.array_in'::regproc as is_array, typtype, typname, pg_type.oid   FROM pg_catalog.pg_type   LEFT JOIN (select ns.oid as nspoid, ns.nspname, r.r           from pg_namespace as ns           join ( select s.r, (current_schemas(false))[s.r] as nspname                    from generate_series(1, array_upper(current_schemas(false), 1)) as s(r) ) as r          using ( nspname )        ) as sp     ON sp.nspoid = typnamespace  WHERE pg_type.oid = 16384  ORDER BY sp.r, pg_type.oid DESC;

-- name: pgjdbc/resultset-field-metadata
-- source: pgjdbc/pgjdbc REL42.7.12 pgjdbc/src/main/java/org/postgresql/jdbc/PgResultSetMetaData.java (fetchFieldMetadata)
-- note: simple query (no parameters); built from the table oid / attnum of every RowDescription field: here 3 columns of table oid 16384
-- note: sent whenever a client calls ResultSetMetaData.isNullable/isAutoIncrement/getBaseColumnName..., e.g. Metabase after its sync and fingerprint queries; if RowDescription reports table oid 0 the text becomes 'SELECT 0 AS oid , 0 AS attnum ...' and 'where c.oid in (0)'
SELECT c.oid, a.attnum, a.attname, c.relname, n.nspname, a.attnotnull OR (t.typtype = 'd' AND t.typnotnull), a.attidentity != '' OR pg_catalog.pg_get_expr(d.adbin, d.adrelid) LIKE '%nextval(%' FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON (c.relnamespace = n.oid) JOIN pg_catalog.pg_attribute a ON (c.oid = a.attrelid) JOIN pg_catalog.pg_type t ON (a.atttypid = t.oid) LEFT JOIN pg_catalog.pg_attrdef d ON (d.adrelid = a.attrelid AND d.adnum = a.attnum) JOIN (SELECT 16384 AS oid , 1 AS attnum UNION ALL SELECT 16384, 2 UNION ALL SELECT 16384, 3) vals ON (c.oid = vals.oid AND a.attnum = vals.attnum) where c.oid in (16384);

-- name: metabase/can-connect
-- source: metabase/metabase src/metabase/driver/sql_jdbc/connection.clj (can-connect-with-spec?)
-- note: first statement after pgjdbc's SET application_name = 'Metabase v0.62.1.5 [<uuid>]'; also used as the pool's connection test
-- note: text cross-checked against a public sync capture of Metabase v0.62.1.5 against PostgreSQL 16 (bind values listed there)
SELECT 1;

-- name: metabase/set-session-read-uncommitted
-- source: metabase/metabase src/metabase/driver/sql_jdbc/execute.clj (set-best-transaction-level! -> Connection.setTransactionIsolation; text built by pgjdbc PgConnection.setTransactionIsolation)
-- note: Metabase sets READ UNCOMMITTED on every sync/query connection after SHOW TRANSACTION ISOLATION LEVEL and select current_catalog, and restores READ COMMITTED afterwards (same text with READ COMMITTED)
-- note: text cross-checked against a public sync capture of Metabase v0.62.1.5 against PostgreSQL 16 (bind values listed there)
SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ UNCOMMITTED;

-- name: metabase/current-user-table-privileges
-- source: metabase/metabase src/metabase/driver/postgres.clj (sql-jdbc.sync/current-user-table-privileges :postgres)
-- note: sent at the start of every sync (have-privilege-fn); lines are joined with \n exactly as in the source
-- note: keywords used as column aliases without quotes: role, schema, table, update, select, insert, delete; has_any_column_privilege / has_table_privilege / has_schema_privilege; pg_tables, pg_views, pg_matviews
with table_privileges as (
 select
   NULL as role,
   t.schemaname as schema,
   t.objectname as table,
   pg_catalog.has_any_column_privilege(current_user, '"' || replace(t.schemaname, '"', '""') || '"' || '.' || '"' || replace(t.objectname, '"', '""') || '"',  'update') as update,
   pg_catalog.has_any_column_privilege(current_user, '"' || replace(t.schemaname, '"', '""') || '"' || '.' || '"' || replace(t.objectname, '"', '""') || '"',  'select') as select,
   pg_catalog.has_any_column_privilege(current_user, '"' || replace(t.schemaname, '"', '""') || '"' || '.' || '"' || replace(t.objectname, '"', '""') || '"',  'insert') as insert,
   pg_catalog.has_table_privilege(     current_user, '"' || replace(t.schemaname, '"', '""') || '"' || '.' || '"' || replace(t.objectname, '"', '""') || '"',  'delete') as delete
 from (
   select schemaname, tablename as objectname from pg_catalog.pg_tables
   union
   select schemaname, viewname as objectname from pg_catalog.pg_views
   union
   select schemaname, matviewname as objectname from pg_catalog.pg_matviews
 ) t
 where t.schemaname !~ '^pg_'
   and t.schemaname <> 'information_schema'
   and pg_catalog.has_schema_privilege(current_user, t.schemaname, 'usage')
)
select t.*
from table_privileges t;

-- name: metabase/describe-database-get-tables
-- source: metabase/metabase src/metabase/driver/postgres.clj (get-tables-sql, rendered by HoneySQL with :dialect :ansi)
-- note: prepared statement: $1=0 $2=0 $3='^pg_' $4='information_schema' $5='public' substituted (v0.62 wraps n_live_tup in NULLIF(...,$1); older versions select "stat"."n_live_tup" directly)
-- note: text cross-checked against a public sync capture of Metabase v0.62.1.5 against PostgreSQL 16 (bind values listed there)
-- note: 'pg_class'::regclass comparison with pg_description.classoid, !~ regex operator, unqualified pg_stat_user_tables
SELECT "n"."nspname" AS "schema", "c"."relname" AS "name", CASE "c"."relkind" WHEN 'r' THEN 'TABLE' WHEN 'p' THEN 'PARTITIONED TABLE' WHEN 'v' THEN 'VIEW' WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE NULL END AS "type", "d"."description" AS "description", NULLIF("stat"."n_live_tup", 0) AS "estimated_row_count" FROM "pg_catalog"."pg_class" AS "c" INNER JOIN "pg_catalog"."pg_namespace" AS "n" ON "c"."relnamespace" = "n"."oid" LEFT JOIN "pg_catalog"."pg_description" AS "d" ON ("c"."oid" = "d"."objoid") AND ("d"."objsubid" = 0) AND ("d"."classoid" = 'pg_class'::regclass) LEFT JOIN "pg_stat_user_tables" AS "stat" ON ("n"."nspname" = "stat"."schemaname") AND ("c"."relname" = "stat"."relname") WHERE ("c"."relnamespace" = "n"."oid") AND ("n"."nspname" !~ '^pg_') AND ("n"."nspname" <> 'information_schema') AND c.relkind in ('r', 'p', 'v', 'f', 'm') AND ("n"."nspname" IN ('public')) ORDER BY "type" ASC, "schema" ASC, "name" ASC;

-- name: metabase/db-default-timezone
-- source: metabase/metabase src/metabase/driver/postgres.clj (driver/db-default-timezone :postgres)
-- note: prepared statement whose text really ends with ';' ("show timezone;"); sent once per sync
-- note: if a report timezone is configured Metabase also sends (set-timezone-sql) "SET SESSION TIMEZONE TO 'UTC';" on query connections
show timezone;

-- name: metabase/enum-types
-- source: metabase/metabase src/metabase/driver/postgres.clj (enum-types)
-- note: sent before describe-fields (describe-fields-pre-process-xf) and on dynamic-database-types-lookup
-- note: text cross-checked against a public sync capture of Metabase v0.62.1.5 against PostgreSQL 16 (bind values listed there)
-- note: unqualified pg_type / pg_namespace / pg_enum, IN (SELECT DISTINCT ...)
SELECT nspname, typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.oid IN (SELECT DISTINCT enumtypid FROM pg_enum e);

-- name: metabase/describe-fields
-- source: metabase/metabase src/metabase/driver/postgres.clj (sql-jdbc.sync/describe-fields-sql :postgres, rendered by HoneySQL)
-- note: prepared statement: $1='ALWAYS' $2='public' $3='public' substituted (per-schema sync, no table filter; with a table filter HoneySQL adds AND ("c"."table_name" IN (...)))
-- note: text cross-checked against a public sync capture of Metabase v0.62.1.5 against PostgreSQL 16 (bind values listed there)
-- note: the stored source revision lacks the database-default / database-is-generated / database-is-nullable columns; the v0.62 capture has them
-- note: FORMAT('%I.%I', ...), CAST(... AS REGCLASS) then AS OID, COL_DESCRIPTION(oid, int), UNION ALL with information_schema.table_constraints/key_column_usage
SELECT "c"."column_name" AS "name", CASE WHEN "c"."udt_schema" IN ('public', 'pg_catalog') THEN FORMAT('%s', "c"."udt_name") ELSE FORMAT('"%s"."%s"', "c"."udt_schema", "c"."udt_name") END AS "database-type", "c"."ordinal_position" - 1 AS "database-position", "c"."table_schema" AS "table-schema", "c"."table_name" AS "table-name", "pk"."column_name" IS NOT NULL AS "pk?", COL_DESCRIPTION(CAST(CAST(FORMAT('%I.%I', CAST("c"."table_schema" AS TEXT), CAST("c"."table_name" AS TEXT)) AS REGCLASS) AS OID), "c"."ordinal_position") AS "field-comment", (("column_default" IS NULL) OR (LOWER("column_default") = 'null')) AND ("is_nullable" = 'NO') AND NOT ((("column_default" IS NOT NULL) AND ("column_default" LIKE '%nextval(%')) OR ("is_identity" <> 'NO')) AS "database-required", "column_default" AS "database-default", (("column_default" IS NOT NULL) AND ("column_default" LIKE '%nextval(%')) OR ("is_identity" <> 'NO') AS "database-is-auto-increment", "is_generated" = 'ALWAYS' AS "database-is-generated", "is_nullable" = 'YES' AS "database-is-nullable" FROM "information_schema"."columns" AS "c" LEFT JOIN (SELECT "tc"."table_schema", "tc"."table_name", "kc"."column_name" FROM "information_schema"."table_constraints" AS "tc" INNER JOIN "information_schema"."key_column_usage" AS "kc" ON ("tc"."constraint_name" = "kc"."constraint_name") AND ("tc"."table_schema" = "kc"."table_schema") AND ("tc"."table_name" = "kc"."table_name") WHERE "tc"."constraint_type" = 'PRIMARY KEY') AS "pk" ON ("c"."table_schema" = "pk"."table_schema") AND ("c"."table_name" = "pk"."table_name") AND ("c"."column_name" = "pk"."column_name") WHERE c.table_schema !~ '^information_schema|catalog_history|pg_' AND ("c"."table_schema" IN ('public')) UNION ALL SELECT "pa"."attname" AS "name", CASE WHEN "ptn"."nspname" IN ('public', 'pg_catalog') THEN FORMAT('%s', "pt"."typname") ELSE FORMAT('"%s"."%s"', "ptn"."nspname", "pt"."typname") END AS "database-type", "pa"."attnum" - 1 AS "database-position", "pn"."nspname" AS "table-schema", "pc"."relname" AS "table-name", FALSE AS "pk?", NULL AS "field-comment", FALSE AS "database-required", NULL AS "database-default", FALSE AS "database-is-auto-increment", FALSE AS "database-is-generated", FALSE AS "database-is-nullable" FROM "pg_catalog"."pg_class" AS "pc" INNER JOIN "pg_catalog"."pg_namespace" AS "pn" ON "pn"."oid" = "pc"."relnamespace" INNER JOIN "pg_catalog"."pg_attribute" AS "pa" ON "pa"."attrelid" = "pc"."oid" INNER JOIN "pg_catalog"."pg_type" AS "pt" ON "pt"."oid" = "pa"."atttypid" INNER JOIN "pg_catalog"."pg_namespace" AS "ptn" ON "ptn"."oid" = "pt"."typnamespace" WHERE ("pc"."relkind" = 'm') AND ("pa"."attnum" >= 1) AND ("pn"."nspname" IN ('public')) ORDER BY "table-schema" ASC, "table-name" ASC, "database-position" ASC;

-- name: metabase/describe-fks
-- source: metabase/metabase src/metabase/driver/postgres.clj (sql-jdbc.sync/describe-fks-sql :postgres, rendered by HoneySQL)
-- note: prepared statement: $1='public' substituted
-- note: text cross-checked against a public sync capture of Metabase v0.62.1.5 against PostgreSQL 16 (bind values listed there)
-- note: 'f'::char cast, = ANY(array column) on pg_constraint.conkey/confkey (int2[])
SELECT "fk_ns"."nspname" AS "fk-table-schema", "fk_table"."relname" AS "fk-table-name", "fk_column"."attname" AS "fk-column-name", "pk_ns"."nspname" AS "pk-table-schema", "pk_table"."relname" AS "pk-table-name", "pk_column"."attname" AS "pk-column-name" FROM "pg_constraint" AS "c" INNER JOIN "pg_class" AS "fk_table" ON "c"."conrelid" = "fk_table"."oid" INNER JOIN "pg_namespace" AS "fk_ns" ON "c"."connamespace" = "fk_ns"."oid" INNER JOIN "pg_attribute" AS "fk_column" ON "c"."conrelid" = "fk_column"."attrelid" INNER JOIN "pg_class" AS "pk_table" ON "c"."confrelid" = "pk_table"."oid" INNER JOIN "pg_namespace" AS "pk_ns" ON "pk_table"."relnamespace" = "pk_ns"."oid" INNER JOIN "pg_attribute" AS "pk_column" ON "c"."confrelid" = "pk_column"."attrelid" WHERE fk_ns.nspname !~ '^information_schema|catalog_history|pg_' AND ("c"."contype" = 'f'::char) AND ("fk_column"."attnum" = ANY(c.conkey)) AND ("pk_column"."attnum" = ANY(c.confkey)) AND ("fk_ns"."nspname" IN ('public')) ORDER BY "fk-table-schema" ASC, "fk-table-name" ASC;

-- name: dbeaver/server-version
-- source: dbeaver/dbeaver (snapshot 2024-10-24) plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreDataSource.java (initialize)
-- note: first DBeaver query after pgjdbc's startup statements and SET application_name = 'DBeaver 24.2.3 - Main <ordergraph>' (PgConnection.setClientInfo)
-- note: next it probes optional catalogs with 'SELECT * FROM pg_catalog.pg_enum WHERE 1<>1 LIMIT 1' and 'SELECT reltype FROM pg_catalog.pg_class WHERE 1<>1 LIMIT 1' (failures only disable features)
SELECT version();

-- name: dbeaver/load-data-types
-- source: dbeaver/dbeaver (snapshot 2024-10-24) plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreDatabase.java (cacheDataTypes) + PostgreDataTypeCache.getBaseTypeNameClause
-- note: sent at connect (PostgreDataSource.initialize -> cacheDataTypes), server >= 10, 'read all data types' off (default)
-- note: t.* over the whole pg_type row set (DBeaver reads typname, typnamespace, typtype, typcategory, typelem, typarray, typlen, typbyval, typinput, typreceive, ... by name), format_type(nullif(...), typmod)
SELECT t.oid,t.*,c.relkind,format_type(nullif(t.typbasetype, 0), t.typtypmod) as base_type_name, d.description
FROM pg_catalog.pg_type t
LEFT OUTER JOIN pg_catalog.pg_type et ON et.oid=t.typelem
LEFT OUTER JOIN pg_catalog.pg_class c ON c.oid=t.typrelid
LEFT OUTER JOIN pg_catalog.pg_description d ON t.oid=d.objoid
WHERE t.typname IS NOT NULL
AND (c.relkind IS NULL OR c.relkind = 'c') AND (et.typcategory IS NULL OR et.typcategory <> 'C');

-- name: dbeaver/setting-standard-conforming-strings
-- source: dbeaver/dbeaver (snapshot 2024-10-24) plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreDataSource.java (SettingCache.prepareLookupStatement, preloaded in initializeRemoteInstance)
-- note: prepared statement, ? = 'standard_conforming_strings' substituted; select * over pg_settings (DBeaver reads name, setting, unit, short_desc...)
select * from pg_catalog.pg_settings where name='standard_conforming_strings';

-- name: dbeaver/database-info
-- source: dbeaver/dbeaver (snapshot 2024-10-24) plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreDatabase.java (readDatabaseInfo)
-- note: prepared statement, ? = 'ordergraph' substituted; db.* must expose datdba, encoding, datcollate, datctype, datistemplate, datallowconn, datconnlimit, dattablespace, datacl ...
SELECT db.oid,db.* FROM pg_catalog.pg_database db WHERE datname='ordergraph';

-- name: dbeaver/context-defaults
-- source: dbeaver/dbeaver (snapshot 2024-10-24) plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreExecutionContext.java (refreshDefaults)
-- note: session_user is an SQL keyword function without parentheses
SELECT current_schema(),session_user;

-- name: dbeaver/show-search-path
-- source: dbeaver/dbeaver (snapshot 2024-10-24) plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreExecutionContext.java (refreshDefaults)
-- note: DBeaver splits the value on ',' and unquotes each entry (e.g. '"$user", public')
SHOW search_path;

-- name: dbeaver/list-schemas
-- source: dbeaver/dbeaver (snapshot 2024-10-24) plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreDatabase.java (SchemaCache.prepareLookupStatement, no object filter)
-- note: 'pg_namespace'::regclass compared with pg_description.classoid; last line starts with a space as in the source
SELECT n.oid,n.*,d.description FROM pg_catalog.pg_namespace n
LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=n.oid AND d.objsubid=0 AND d.classoid='pg_namespace'::regclass
 ORDER BY nspname;

-- name: dbeaver/list-tables
-- source: dbeaver/dbeaver (snapshot 2024-10-24) plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreSchema.java (TableCache.prepareLookupStatement, server >= 10)
-- note: prepared statement, ? = 2200 (oid of schema public) substituted as a bigint
-- note: c.* over pg_class (DBeaver reads relkind, relowner, relhasoids/relispartition, reltuples, relpersistence, reloptions ...), pg_get_expr(c.relpartbound, c.oid), pg_get_partkeydef(oid), 'pg_class'::regclass
SELECT c.oid,c.*,d.description,pg_catalog.pg_get_expr(c.relpartbound, c.oid) as partition_expr,  pg_catalog.pg_get_partkeydef(c.oid) as partition_key
FROM pg_catalog.pg_class c
LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=c.oid AND d.objsubid=0 AND d.classoid='pg_class'::regclass
WHERE c.relnamespace=2200 AND c.relkind not in ('i','I','c');

-- name: dbeaver/table-columns
-- source: dbeaver/dbeaver (snapshot 2024-10-24) plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreSchema.java (TableCache.prepareChildrenStatement, forTable != null)
-- note: prepared statement, ? = 16384 (oid of table orders) substituted; when a whole schema is loaded the last filter is ' AND c.relnamespace=2200' instead
-- note: a.* over pg_attribute (attname, atttypid, attnum, attnotnull, atttypmod, attidentity, attgenerated, attndims, attcollation ...), pg_get_expr(adbin, adrelid, true), unqualified pg_depend
SELECT c.relname,a.*,pg_catalog.pg_get_expr(ad.adbin, ad.adrelid, true) as def_value,dsc.description,dep.objid
FROM pg_catalog.pg_attribute a
INNER JOIN pg_catalog.pg_class c ON (a.attrelid=c.oid)
LEFT OUTER JOIN pg_catalog.pg_attrdef ad ON (a.attrelid=ad.adrelid AND a.attnum = ad.adnum)
LEFT OUTER JOIN pg_catalog.pg_description dsc ON (c.oid=dsc.objoid AND a.attnum = dsc.objsubid)
LEFT OUTER JOIN pg_depend dep on dep.refobjid = a.attrelid AND dep.deptype = 'i' and dep.refobjsubid = a.attnum and dep.classid = dep.refclassid
WHERE NOT a.attisdropped AND c.relkind not in ('i','I','c') AND c.oid=16384
ORDER BY a.attnum;

-- name: dbeaver/table-constraints
-- source: dbeaver/dbeaver (snapshot 2024-10-24) plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreSchema.java (ConstraintCache.prepareObjectsStatement, forParent != null)
-- note: prepared statement, ? = 16384 substituted; this is how DBeaver finds the primary key (contype = 'p', conkey)
-- note: double-quoted function name "substring"(text, int), pg_get_constraintdef(oid), 'pg_constraint'::regclass
SELECT c.oid,c.*,t.relname as tabrelname,rt.relnamespace as refnamespace,d.description, case when c.contype='c' then "substring"(pg_get_constraintdef(c.oid), 7) else null end consrc_copy
FROM pg_catalog.pg_constraint c
INNER JOIN pg_catalog.pg_class t ON t.oid=c.conrelid
LEFT OUTER JOIN pg_catalog.pg_class rt ON rt.oid=c.confrelid
LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=c.oid AND d.objsubid=0 AND d.classoid='pg_constraint'::regclass
WHERE c.conrelid=16384
ORDER BY c.oid;

-- name: dbeaver/table-indexes
-- source: dbeaver/dbeaver (snapshot 2024-10-24) plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreSchema.java (IndexCache.prepareObjectsStatement, forTable != null)
-- note: prepared statement, ? = 16384 substituted; note the double space in 'WHERE  i.indrelid'
-- note: i.* over pg_index incl. int2vector/oidvector columns (indkey, indclass, indoption), pg_relation_size, pg_stat_get_numscans, pg_get_expr(..., true)
SELECT i.*,i.indkey as keys,c.relname,c.relnamespace,c.relam,c.reltablespace,tc.relname as tabrelname,dsc.description,pg_catalog.pg_get_expr(i.indpred, i.indrelid) as pred_expr,pg_catalog.pg_get_expr(i.indexprs, i.indrelid, true) as expr,pg_catalog.pg_relation_size(i.indexrelid) as index_rel_size,pg_catalog.pg_stat_get_numscans(i.indexrelid) as index_num_scans
FROM pg_catalog.pg_index i
INNER JOIN pg_catalog.pg_class c ON c.oid=i.indexrelid
INNER JOIN pg_catalog.pg_class tc ON tc.oid=i.indrelid
LEFT OUTER JOIN pg_catalog.pg_description dsc ON i.indexrelid=dsc.objoid
WHERE  i.indrelid=16384 ORDER BY c.relname;

-- name: superset/psycopg2-hstore-oid-probe
-- source: psycopg/psycopg2 lib/extras.py (HstoreAdapter.get_oids), called from sqlalchemy dialects/postgresql/psycopg2.py on_connect (use_native_hstore=True by default)
-- note: first statement on every new Superset connection (psycopg2 also sends BEGIN before it and ROLLBACK after it)
-- note: the original text ends with ';' followed by a newline
SELECT t.oid, typarray
FROM pg_type t JOIN pg_namespace ns
    ON typnamespace = ns.oid
WHERE typname = 'hstore';

-- name: superset/sqlalchemy-server-version
-- source: sqlalchemy/sqlalchemy rel_2_0_52 lib/sqlalchemy/dialects/postgresql/base.py (_get_server_version_info)
-- note: sent once per engine at first connect; the result must match r'.*(?:PostgreSQL|EnterpriseDB) (\d+)\.?(\d+)?' or SQLAlchemy raises AssertionError
-- note: next: 'select current_schema()', 'show transaction isolation level', 'show standard_conforming_strings' (identical in SQLAlchemy 1.4 and 2.0)
select pg_catalog.version();

-- name: superset/set-search-path
-- source: apache/superset superset/db_engine_specs/postgres.py (PostgresEngineSpec.get_prequeries)
-- note: sent before SQL Lab / chart queries when a schema is selected
set search_path = "public";

-- name: superset/sqlalchemy20-get-schema-names
-- source: sqlalchemy/sqlalchemy rel_2_0_52 lib/sqlalchemy/dialects/postgresql/base.py (get_schema_names)
-- reconstructed: produced by running the rel_2_0_52 dialect code against a stub psycopg2 (server_version_info=(16,)) and applying psycopg2's client-side %(name)s interpolation
-- note: bind value 'pg_%' substituted
-- note: SQLAlchemy 1.4 (what Superset really runs) sends: SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg_%' ORDER BY nspname
SELECT pg_catalog.pg_namespace.nspname
FROM pg_catalog.pg_namespace
WHERE pg_catalog.pg_namespace.nspname NOT LIKE 'pg_%' ORDER BY pg_catalog.pg_namespace.nspname;

-- name: superset/sqlalchemy20-get-table-names
-- source: sqlalchemy/sqlalchemy rel_2_0_52 lib/sqlalchemy/dialects/postgresql/base.py (get_table_names -> _get_relnames_for_relkinds)
-- reconstructed: produced by running the rel_2_0_52 dialect code against a stub psycopg2 (server_version_info=(16,)) and applying psycopg2's client-side %(name)s interpolation
-- note: get_view_names / get_materialized_view_names / get_foreign_table_names send the same text with ARRAY['v'] / ARRAY['m'] / ARRAY['f'] (foreign: without the relpersistence filter)
-- note: relkind = ANY (ARRAY['r', 'p']) compares a "char" column with a text[] literal
-- note: SQLAlchemy 1.4 sends: SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind in ('r', 'p')  (views: c.relkind IN ('v', 'm'); Superset also calls get_foreign_table_names: c.relkind = 'f')
SELECT pg_catalog.pg_class.relname
FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace
WHERE pg_catalog.pg_class.relkind = ANY (ARRAY['r', 'p']) AND pg_catalog.pg_class.relpersistence != 't' AND pg_catalog.pg_namespace.nspname = 'public';

-- name: superset/sqlalchemy20-get-columns
-- source: sqlalchemy/sqlalchemy rel_2_0_52 lib/sqlalchemy/dialects/postgresql/base.py (get_columns -> get_multi_columns -> _columns_query)
-- reconstructed: produced by running the rel_2_0_52 dialect code against a stub psycopg2 (server_version_info=(16,)) and applying psycopg2's client-side %(name)s interpolation
-- note: correlated scalar subqueries in the select list, json_build_object(...), pg_get_serial_sequence, CAST(CAST(x AS REGCLASS) AS TEXT) / CAST(... AS REGCLASS) AS OID, pg_sequence, pg_collation; IN ('orders') is the expanded filter_names bind
-- note: followed by the domain and enum loading queries (_load_domains / _load_enums: array_agg(... ORDER BY ...), pg_type_is_visible)
SELECT pg_catalog.pg_attribute.attname AS name, pg_catalog.format_type(pg_catalog.pg_attribute.atttypid, pg_catalog.pg_attribute.atttypmod) AS format_type, (SELECT pg_catalog.pg_get_expr(pg_catalog.pg_attrdef.adbin, pg_catalog.pg_attrdef.adrelid) AS pg_get_expr_1
FROM pg_catalog.pg_attrdef
WHERE pg_catalog.pg_attrdef.adrelid = pg_catalog.pg_attribute.attrelid AND pg_catalog.pg_attrdef.adnum = pg_catalog.pg_attribute.attnum AND pg_catalog.pg_attribute.atthasdef) AS "default", pg_catalog.pg_attribute.attnotnull AS not_null, pg_catalog.pg_class.relname AS table_name, pg_catalog.pg_description.description AS comment, pg_catalog.pg_attribute.attgenerated AS generated, (SELECT json_build_object('always', pg_catalog.pg_attribute.attidentity = 'a', 'start', pg_catalog.pg_sequence.seqstart, 'increment', pg_catalog.pg_sequence.seqincrement, 'minvalue', pg_catalog.pg_sequence.seqmin, 'maxvalue', pg_catalog.pg_sequence.seqmax, 'cache', pg_catalog.pg_sequence.seqcache, 'cycle', pg_catalog.pg_sequence.seqcycle) AS json_build_object_1
FROM pg_catalog.pg_sequence
WHERE pg_catalog.pg_attribute.attidentity != '' AND pg_catalog.pg_sequence.seqrelid = CAST(CAST(pg_catalog.pg_get_serial_sequence(CAST(CAST(pg_catalog.pg_attribute.attrelid AS REGCLASS) AS TEXT), pg_catalog.pg_attribute.attname) AS REGCLASS) AS OID)) AS identity_options, CASE WHEN (pg_catalog.pg_attribute.attcollation != 0 AND (SELECT pg_catalog.pg_type.typcollation
FROM pg_catalog.pg_type
WHERE pg_catalog.pg_type.oid = pg_catalog.pg_attribute.atttypid) != pg_catalog.pg_attribute.attcollation) THEN (SELECT pg_catalog.pg_collation.collname
FROM pg_catalog.pg_collation
WHERE pg_catalog.pg_collation.oid = pg_catalog.pg_attribute.attcollation) ELSE NULL END AS collation
FROM pg_catalog.pg_class LEFT OUTER JOIN pg_catalog.pg_attribute ON pg_catalog.pg_class.oid = pg_catalog.pg_attribute.attrelid AND pg_catalog.pg_attribute.attnum > 0 AND NOT pg_catalog.pg_attribute.attisdropped LEFT OUTER JOIN pg_catalog.pg_description ON pg_catalog.pg_description.objoid = pg_catalog.pg_attribute.attrelid AND pg_catalog.pg_description.objsubid = pg_catalog.pg_attribute.attnum JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace
WHERE pg_catalog.pg_class.relkind = ANY (ARRAY['r', 'p', 'f', 'v', 'm']) AND pg_catalog.pg_namespace.nspname = 'public' AND pg_catalog.pg_class.relname IN ('orders') ORDER BY pg_catalog.pg_class.relname, pg_catalog.pg_attribute.attnum;

-- name: superset/sqlalchemy20-get-pk-constraint
-- source: sqlalchemy/sqlalchemy rel_2_0_52 lib/sqlalchemy/dialects/postgresql/base.py (get_multi_pk_constraint -> _constraint_query)
-- reconstructed: produced by running the rel_2_0_52 dialect code against a stub psycopg2 (server_version_info=(16,)) and applying psycopg2's client-side %(name)s interpolation
-- note: table oid 16384 returned by the previous query; unnest(int2vector) and generate_subscripts(int2vector, 1) in the select list, array_agg(... ORDER BY ...), bool_and, pg_index.indnullsnotdistinct (PG15+ column, queried because server_version_info >= 15)
-- note: preceded by: SELECT pg_catalog.pg_class.oid, pg_catalog.pg_class.relname FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON ... WHERE pg_catalog.pg_class.relkind = ANY (ARRAY['r', 'p', 'f', 'v', 'm']) AND pg_catalog.pg_namespace.nspname = 'public' AND pg_catalog.pg_class.relname IN ('orders') (_get_table_oids)
SELECT attr.conrelid, array_agg(CAST(attr.attname AS TEXT) ORDER BY attr.ord) AS cols, attr.conname, min(attr.description) AS description, min(attr.indnkeyatts) AS indnkeyatts, bool_and(attr.indnullsnotdistinct) AS indnullsnotdistinct
FROM (SELECT con.conrelid AS conrelid, con.conname AS conname, con.description AS description, con.ord AS ord, con.indnkeyatts AS indnkeyatts, con.indnullsnotdistinct AS indnullsnotdistinct, pg_catalog.pg_attribute.attname AS attname
FROM pg_catalog.pg_attribute JOIN (SELECT pg_catalog.pg_constraint.conrelid AS conrelid, pg_catalog.pg_constraint.conname AS conname, unnest(pg_catalog.pg_index.indkey) AS attnum, generate_subscripts(pg_catalog.pg_index.indkey, 1) AS ord, pg_catalog.pg_index.indnkeyatts AS indnkeyatts, pg_catalog.pg_index.indnullsnotdistinct AS indnullsnotdistinct, pg_catalog.pg_description.description AS description
FROM pg_catalog.pg_constraint JOIN pg_catalog.pg_index ON pg_catalog.pg_constraint.conindid = pg_catalog.pg_index.indexrelid LEFT OUTER JOIN pg_catalog.pg_description ON pg_catalog.pg_description.objoid = pg_catalog.pg_constraint.oid
WHERE pg_catalog.pg_constraint.contype = 'p' AND pg_catalog.pg_constraint.conrelid IN (16384)) AS con ON pg_catalog.pg_attribute.attnum = con.attnum AND pg_catalog.pg_attribute.attrelid = con.conrelid
WHERE con.conrelid IN (16384)) AS attr GROUP BY attr.conrelid, attr.conname ORDER BY attr.conrelid, attr.conname;

-- name: superset/sqlalchemy20-get-foreign-keys
-- source: sqlalchemy/sqlalchemy rel_2_0_52 lib/sqlalchemy/dialects/postgresql/base.py (get_multi_foreign_keys -> _foreing_key_query)
-- reconstructed: produced by running the rel_2_0_52 dialect code against a stub psycopg2 (server_version_info=(16,)) and applying psycopg2's client-side %(name)s interpolation
-- note: pg_get_constraintdef(oid, true) is parsed client-side with a regex: must return text like 'FOREIGN KEY (customer_id) REFERENCES customers(id)'
SELECT pg_catalog.pg_class.relname, pg_catalog.pg_constraint.conname, CASE WHEN (pg_catalog.pg_constraint.oid IS NOT NULL) THEN pg_catalog.pg_get_constraintdef(pg_catalog.pg_constraint.oid, true) END AS anon_1, nsp_ref.nspname, pg_catalog.pg_description.description
FROM pg_catalog.pg_class LEFT OUTER JOIN pg_catalog.pg_constraint ON pg_catalog.pg_class.oid = pg_catalog.pg_constraint.conrelid AND pg_catalog.pg_constraint.contype = 'f' LEFT OUTER JOIN pg_catalog.pg_class AS cls_ref ON cls_ref.oid = pg_catalog.pg_constraint.confrelid LEFT OUTER JOIN pg_catalog.pg_namespace AS nsp_ref ON cls_ref.relnamespace = nsp_ref.oid LEFT OUTER JOIN pg_catalog.pg_description ON pg_catalog.pg_description.objoid = pg_catalog.pg_constraint.oid JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace
WHERE pg_catalog.pg_class.relkind = ANY (ARRAY['r', 'p', 'f', 'v', 'm']) AND pg_catalog.pg_namespace.nspname = 'public' AND pg_catalog.pg_class.relname IN ('orders') ORDER BY pg_catalog.pg_class.relname, pg_catalog.pg_constraint.conname;

-- name: superset/sqlalchemy20-get-indexes
-- source: sqlalchemy/sqlalchemy rel_2_0_52 lib/sqlalchemy/dialects/postgresql/base.py (get_multi_indexes -> _index_query)
-- reconstructed: produced by running the rel_2_0_52 dialect code against a stub psycopg2 (server_version_info=(16,)) and applying psycopg2's client-side %(name)s interpolation
-- note: after the same _get_table_oids query; 3 levels of derived tables, unnest(indkey)/unnest(indclass)/generate_subscripts, pg_get_indexdef(oid, int, bool), = ANY (ARRAY['p', 'u', 'x']), pg_opclass, reloptions
SELECT pg_catalog.pg_index.indrelid, pg_catalog.pg_class.relname, pg_catalog.pg_index.indisunique, pg_catalog.pg_constraint.conrelid IS NOT NULL AS has_constraint, pg_catalog.pg_index.indoption, pg_catalog.pg_class.reloptions, pg_catalog.pg_am.amname, CASE WHEN (pg_catalog.pg_index.indpred IS NOT NULL) THEN pg_catalog.pg_get_expr(pg_catalog.pg_index.indpred, pg_catalog.pg_index.indrelid) END AS filter_definition, pg_catalog.pg_index.indnkeyatts, pg_catalog.pg_index.indnullsnotdistinct, idx_cols.elements, idx_cols.elements_is_expr, idx_cols.elements_opclass, idx_cols.elements_opdefault
FROM pg_catalog.pg_index JOIN pg_catalog.pg_class ON pg_catalog.pg_index.indexrelid = pg_catalog.pg_class.oid JOIN pg_catalog.pg_am ON pg_catalog.pg_class.relam = pg_catalog.pg_am.oid LEFT OUTER JOIN (SELECT idx_attr.indexrelid AS indexrelid, min(idx_attr.indrelid) AS min_1, array_agg(idx_attr.element ORDER BY idx_attr.ord) AS elements, array_agg(idx_attr.is_expr ORDER BY idx_attr.ord) AS elements_is_expr, array_agg(idx_attr.opcname ORDER BY idx_attr.ord) AS elements_opclass, array_agg(idx_attr.opcdefault ORDER BY idx_attr.ord) AS elements_opdefault
FROM (SELECT idx.indexrelid AS indexrelid, idx.indrelid AS indrelid, idx.ord AS ord, CASE WHEN (idx.attnum = 0) THEN pg_catalog.pg_get_indexdef(idx.indexrelid, idx.ord + 1, true) ELSE CAST(pg_catalog.pg_attribute.attname AS TEXT) END AS element, idx.attnum = 0 AS is_expr, pg_catalog.pg_opclass.opcname AS opcname, pg_catalog.pg_opclass.opcdefault AS opcdefault
FROM (SELECT pg_catalog.pg_index.indexrelid AS indexrelid, pg_catalog.pg_index.indrelid AS indrelid, unnest(pg_catalog.pg_index.indkey) AS attnum, unnest(pg_catalog.pg_index.indclass) AS att_opclass, generate_subscripts(pg_catalog.pg_index.indkey, 1) AS ord
FROM pg_catalog.pg_index
WHERE NOT pg_catalog.pg_index.indisprimary AND pg_catalog.pg_index.indrelid IN (16384)) AS idx LEFT OUTER JOIN pg_catalog.pg_attribute ON pg_catalog.pg_attribute.attnum = idx.attnum AND pg_catalog.pg_attribute.attrelid = idx.indrelid LEFT OUTER JOIN pg_catalog.pg_opclass ON pg_catalog.pg_opclass.oid = idx.att_opclass
WHERE idx.indrelid IN (16384)) AS idx_attr GROUP BY idx_attr.indexrelid) AS idx_cols ON pg_catalog.pg_index.indexrelid = idx_cols.indexrelid LEFT OUTER JOIN pg_catalog.pg_constraint ON pg_catalog.pg_index.indrelid = pg_catalog.pg_constraint.conrelid AND pg_catalog.pg_index.indexrelid = pg_catalog.pg_constraint.conindid AND pg_catalog.pg_constraint.contype = ANY (ARRAY['p', 'u', 'x'])
WHERE pg_catalog.pg_index.indrelid IN (16384) AND NOT pg_catalog.pg_index.indisprimary ORDER BY pg_catalog.pg_index.indrelid, pg_catalog.pg_class.relname;

-- name: superset/sqlalchemy14-get-columns
-- source: sqlalchemy/sqlalchemy rel_1_4_54 lib/sqlalchemy/dialects/postgresql/base.py (get_columns)
-- note: Superset pins sqlalchemy>=1.4,<2 (apache/superset pyproject.toml) and psycopg2-binary, so THIS is what a current Superset sends; text from the 1.4 dialect's textual SQL, bind values interpolated as psycopg2 does, blank/whitespace-only lines removed
-- note: table oid 16384 substituted; json_build_object, pg_get_serial_sequence(...)::regclass::oid, a.attrelid::regclass::text, correlated scalar subqueries, c."oid" quoted system column
-- note: preceded by get_table_oid: SELECT c.oid FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE (n.nspname = 'public') AND c.relname = 'orders' AND c.relkind in ('r', 'v', 'm', 'f', 'p')
            SELECT a.attname,
              pg_catalog.format_type(a.atttypid, a.atttypmod),
              (
                SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid)
                FROM pg_catalog.pg_attrdef d
                WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum
                AND a.atthasdef
              ) AS DEFAULT,
              a.attnotnull,
              a.attrelid as table_oid,
              pgd.description as comment,
              a.attgenerated as generated,
                              (SELECT json_build_object(
                    'always', a.attidentity = 'a',
                    'start', s.seqstart,
                    'increment', s.seqincrement,
                    'minvalue', s.seqmin,
                    'maxvalue', s.seqmax,
                    'cache', s.seqcache,
                    'cycle', s.seqcycle)
                FROM pg_catalog.pg_sequence s
                JOIN pg_catalog.pg_class c on s.seqrelid = c."oid"
                WHERE c.relkind = 'S'
                AND a.attidentity != ''
                AND s.seqrelid = pg_catalog.pg_get_serial_sequence(
                    a.attrelid::regclass::text, a.attname
                )::regclass::oid
                ) as identity_options
            FROM pg_catalog.pg_attribute a
            LEFT JOIN pg_catalog.pg_description pgd ON (
                pgd.objoid = a.attrelid AND pgd.objsubid = a.attnum)
            WHERE a.attrelid = 16384
            AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY a.attnum;

-- name: superset/sqlalchemy14-get-pk-constraint
-- source: sqlalchemy/sqlalchemy rel_1_4_54 lib/sqlalchemy/dialects/postgresql/base.py (get_pk_constraint)
-- note: Superset pins sqlalchemy>=1.4,<2 (apache/superset pyproject.toml) and psycopg2-binary, so THIS is what a current Superset sends; text from the 1.4 dialect's textual SQL, bind values interpolated as psycopg2 does, blank/whitespace-only lines removed
-- note: unnest(ix.indkey) / generate_subscripts(ix.indkey, 1) in a derived table; followed by 'SELECT conname FROM pg_catalog.pg_constraint r WHERE r.conrelid = 16384 AND r.contype = 'p' ORDER BY 1'
                SELECT a.attname
                FROM pg_attribute a JOIN (
                    SELECT unnest(ix.indkey) attnum,
                           generate_subscripts(ix.indkey, 1) ord
                    FROM pg_index ix
                    WHERE ix.indrelid = 16384 AND ix.indisprimary
                    ) k ON a.attnum=k.attnum
                WHERE a.attrelid = 16384
                ORDER BY k.ord;

-- name: superset/sqlalchemy14-get-indexes
-- source: sqlalchemy/sqlalchemy rel_1_4_54 lib/sqlalchemy/dialects/postgresql/base.py (get_indexes)
-- note: Superset pins sqlalchemy>=1.4,<2 (apache/superset pyproject.toml) and psycopg2-binary, so THIS is what a current Superset sends; text from the 1.4 dialect's textual SQL, bind values interpolated as psycopg2 does, blank/whitespace-only lines removed
-- note: ix.indkey::varchar / ix.indoption::varchar (int2vector to text, parsed client-side as space separated numbers), a.attnum = ANY(ix.indkey), ix.indisprimary = 'f'
              SELECT
                  i.relname as relname,
                  ix.indisunique, ix.indexprs,
                  a.attname, a.attnum, c.conrelid, ix.indkey::varchar,
                  ix.indoption::varchar, i.reloptions, am.amname,
                  pg_get_expr(ix.indpred, ix.indrelid),
                  ix.indnkeyatts as indnkeyatts
              FROM
                  pg_class t
                        join pg_index ix on t.oid = ix.indrelid
                        join pg_class i on i.oid = ix.indexrelid
                        left outer join
                            pg_attribute a
                            on t.oid = a.attrelid and a.attnum = ANY(ix.indkey)
                        left outer join
                            pg_constraint c
                            on (ix.indrelid = c.conrelid and
                                ix.indexrelid = c.conindid and
                                c.contype in ('p', 'u', 'x'))
                        left outer join
                            pg_am am
                            on i.relam = am.oid
              WHERE
                  t.relkind IN ('r', 'v', 'f', 'm', 'p')
                  and t.oid = 16384
                  and ix.indisprimary = 'f'
              ORDER BY
                  t.relname,
                  i.relname;

-- name: npgsql/load-types
-- source: npgsql/npgsql (snapshot 2026-08, v10.0.x) src/Npgsql/PostgresDatabaseInfo.cs (GenerateLoadTypesQuery, server 16: ranges+multiranges, typcategory, no TypeLoadingSchemas, LoadTableComposites=false)
-- note: current Npgsql (v10) sends 'SELECT version();' + this + the composite + the enum query as ONE simple-query message (StringBuilder.AppendLine, so statements are separated by newlines, CRLF on Windows builds); split here because of the file format
-- note: sent on the first physical connection of each data source; '--' comments inside, nested derived tables, CASE in ORDER BY, correlated subquery on pg_range.rngmultitypid, joins on pg_proc.proname='array_recv'
-- note: whitespace-only lines of the generated text are dropped here
SELECT ns.nspname, t.oid, t.typname, t.typtype, t.typnotnull, t.elemtypoid
FROM (
    -- Arrays have typtype=b - this subquery identifies them by their typreceive and converts their typtype to a
    -- We first do this for the type (innerest-most subquery), and then for its element type
    -- This also returns the array element, range subtype and domain base type as elemtypoid
    SELECT
        typ.oid, typ.typnamespace, typ.typname, typ.typtype, typ.typrelid, typ.typnotnull, typ.relkind,
        elemtyp.oid AS elemtypoid, elemtyp.typname AS elemtypname, elemcls.relkind AS elemrelkind,
        CASE WHEN elemproc.proname='array_recv' THEN 'a' ELSE elemtyp.typtype END AS elemtyptype
        , typ.typcategory
    FROM (
        SELECT typ.oid, typnamespace, typname, typrelid, typnotnull, relkind, typelem AS elemoid,
            CASE WHEN proc.proname='array_recv' THEN 'a' ELSE typ.typtype END AS typtype,
            CASE
                WHEN proc.proname='array_recv' THEN typ.typelem
                WHEN typ.typtype='r' THEN rngsubtype
                WHEN typ.typtype='m' THEN (SELECT rngtypid FROM pg_range WHERE rngmultitypid = typ.oid)
                WHEN typ.typtype='d' THEN typ.typbasetype
            END AS elemtypoid
            , typ.typcategory
        FROM pg_type AS typ
        LEFT JOIN pg_class AS cls ON (cls.oid = typ.typrelid)
        LEFT JOIN pg_proc AS proc ON proc.oid = typ.typreceive
        LEFT JOIN pg_range ON (pg_range.rngtypid = typ.oid)
    ) AS typ
    LEFT JOIN pg_type AS elemtyp ON elemtyp.oid = elemtypoid
    LEFT JOIN pg_class AS elemcls ON (elemcls.oid = elemtyp.typrelid)
    LEFT JOIN pg_proc AS elemproc ON elemproc.oid = elemtyp.typreceive
) AS t
JOIN pg_namespace AS ns ON (ns.oid = typnamespace)
WHERE
    (typtype IN ('b', 'r', 'm', 'e', 'd') OR -- Base, range, multirange, enum, domain
    (typtype = 'c' AND relkind='c') OR -- User-defined free-standing composites (not table composites) by default
    (typtype = 'p' AND typname IN ('record', 'void', 'unknown')) OR -- Some special supported pseudo-types
    (typtype = 'a' AND (  -- Array of...
        elemtyptype IN ('b', 'r', 'm', 'e', 'd') OR -- Array of base, range, multirange, enum, domain
        (elemtyptype = 'p' AND elemtypname IN ('record', 'void')) OR -- Arrays of special supported pseudo-types
        (elemtyptype = 'c' AND elemrelkind='c') -- Array of user-defined free-standing composites (not table composites) by default
    )))
ORDER BY CASE
       WHEN typtype IN ('b', 'e', 'p') THEN 0           -- First base types, enums, pseudo-types
       WHEN typtype = 'c' THEN 1                        -- Composites after (fields loaded later in 2nd pass)
       WHEN typtype = 'r' THEN 2                        -- Ranges after
       WHEN typtype = 'm' THEN 3                        -- Multiranges after
       WHEN typtype = 'd' AND elemtyptype <> 'a' THEN 4 -- Domains over non-arrays after
       WHEN typtype = 'a' THEN 5                        -- Arrays after
       WHEN typtype = 'd' AND elemtyptype = 'a' THEN 6  -- Domains over arrays last
END;

-- name: npgsql/load-composite-fields
-- source: npgsql/npgsql (snapshot 2026-08, v10.0.x) src/Npgsql/PostgresDatabaseInfo.cs (GenerateLoadCompositeTypesQuery)
-- note: current Npgsql (v10) sends 'SELECT version();' + this + the composite + the enum query as ONE simple-query message (StringBuilder.AppendLine, so statements are separated by newlines, CRLF on Windows builds); split here because of the file format
-- Load field definitions for (free-standing) composite types
SELECT typ.oid, att.attname, att.atttypid
FROM pg_type AS typ
JOIN pg_namespace AS ns ON (ns.oid = typ.typnamespace)
JOIN pg_class AS cls ON (cls.oid = typ.typrelid)
JOIN pg_attribute AS att ON (att.attrelid = typ.typrelid)
WHERE
  (typ.typtype = 'c' AND cls.relkind='c') AND
  attnum > 0 AND     -- Don't load system attributes
  NOT attisdropped
ORDER BY typ.oid, att.attnum;

-- name: npgsql/load-enum-labels
-- source: npgsql/npgsql (snapshot 2026-08, v10.0.x) src/Npgsql/PostgresDatabaseInfo.cs (GenerateLoadEnumFieldsQuery)
-- note: current Npgsql (v10) sends 'SELECT version();' + this + the composite + the enum query as ONE simple-query message (StringBuilder.AppendLine, so statements are separated by newlines, CRLF on Windows builds); split here because of the file format
-- Load enum fields
SELECT typ.oid, enumlabel
FROM pg_enum
JOIN pg_type AS typ ON typ.oid = enumtypid
JOIN pg_namespace AS ns ON ns.oid = typ.typnamespace
ORDER BY oid, enumsortorder;

-- name: npgsql4-powerbi/load-types
-- source: npgsql/npgsql v4.0.17 src/Npgsql/PostgresDatabaseInfo.cs (GenerateTypesQuery)
-- note: Power BI Desktop ships Npgsql 4.0.17 (since the Oct 2024 release; 4.1+ unsupported, per learn.microsoft.com/power-query/connectors/postgresql), so these are Power BI's type-loading statements; Npgsql 4.0 splits the generated batch client-side (SqlQueryParser) at top-level ';' and sends each statement with the extended protocol
-- note: statement 1 of 3; '/*** ... ***/' block comments kept; the leading newline of the generated text is dropped here
-- note: joins pg_proc on typreceive and tests proname='array_recv'/'oidvectorrecv'; pg_range.rngsubtype
/*** Load all supported types ***/
SELECT ns.nspname, a.typname, a.oid, a.typrelid, a.typbasetype,
CASE WHEN pg_proc.proname='array_recv' THEN 'a' ELSE a.typtype END AS type,
CASE
  WHEN pg_proc.proname='array_recv' THEN a.typelem
  WHEN a.typtype='r' THEN rngsubtype
  ELSE 0
END AS elemoid,
CASE
  WHEN pg_proc.proname IN ('array_recv','oidvectorrecv') THEN 3    /* Arrays last */
  WHEN a.typtype='r' THEN 2                                        /* Ranges before */
  WHEN a.typtype='d' THEN 1                                        /* Domains before */
  ELSE 0                                                           /* Base types first */
END AS ord
FROM pg_type AS a
JOIN pg_namespace AS ns ON (ns.oid = a.typnamespace)
JOIN pg_proc ON pg_proc.oid = a.typreceive
LEFT OUTER JOIN pg_class AS cls ON (cls.oid = a.typrelid)
LEFT OUTER JOIN pg_type AS b ON (b.oid = a.typelem)
LEFT OUTER JOIN pg_class AS elemcls ON (elemcls.oid = b.typrelid)
LEFT OUTER JOIN pg_range ON (pg_range.rngtypid = a.oid)
WHERE
  a.typtype IN ('b', 'r', 'e', 'd') OR         /* Base, range, enum, domain */
  (a.typtype = 'c' AND cls.relkind='c') OR /* User-defined free-standing composites (not table composites) by default */
  (pg_proc.proname='array_recv' AND (
    b.typtype IN ('b', 'r', 'e', 'd') OR       /* Array of base, range, enum, domain */
    (b.typtype = 'p' AND b.typname IN ('record', 'void')) OR /* Arrays of special supported pseudo-types */
    (b.typtype = 'c' AND elemcls.relkind='c')  /* Array of user-defined free-standing composites (not table composites) */
  )) OR
  (a.typtype = 'p' AND a.typname IN ('record', 'void'))  /* Some special supported pseudo-types */
ORDER BY ord;

-- name: npgsql4-powerbi/load-composite-fields
-- source: npgsql/npgsql v4.0.17 src/Npgsql/PostgresDatabaseInfo.cs (GenerateTypesQuery)
-- note: Power BI Desktop ships Npgsql 4.0.17 (since the Oct 2024 release; 4.1+ unsupported, per learn.microsoft.com/power-query/connectors/postgresql), so these are Power BI's type-loading statements; Npgsql 4.0 splits the generated batch client-side (SqlQueryParser) at top-level ';' and sends each statement with the extended protocol
-- note: statement 2 of 3
/*** Load field definitions for (free-standing) composite types ***/
SELECT typ.oid, att.attname, att.atttypid
FROM pg_type AS typ
JOIN pg_namespace AS ns ON (ns.oid = typ.typnamespace)
JOIN pg_class AS cls ON (cls.oid = typ.typrelid)
JOIN pg_attribute AS att ON (att.attrelid = typ.typrelid)
WHERE
  (typ.typtype = 'c' AND cls.relkind='c') AND
  attnum > 0 AND     /* Don't load system attributes */
  NOT attisdropped
ORDER BY typ.oid, att.attnum;

-- name: npgsql4-powerbi/load-enum-labels
-- source: npgsql/npgsql v4.0.17 src/Npgsql/PostgresDatabaseInfo.cs (GenerateTypesQuery)
-- note: Power BI Desktop ships Npgsql 4.0.17 (since the Oct 2024 release; 4.1+ unsupported, per learn.microsoft.com/power-query/connectors/postgresql), so these are Power BI's type-loading statements; Npgsql 4.0 splits the generated batch client-side (SqlQueryParser) at top-level ';' and sends each statement with the extended protocol
-- note: statement 3 of 3; ORDER BY oid resolves to the output column pg_type.oid
/*** Load enum fields ***/
SELECT pg_type.oid, enumlabel
FROM pg_enum
JOIN pg_type ON pg_type.oid=enumtypid
ORDER BY oid, enumsortorder;

-- name: grafana/health-check-ping
-- source: grafana/grafana pkg/tsdb/grafana-postgresql-datasource/pgx/handler_checkhealth.go -> pgx v5 pgconn.PgConn.Ping
-- note: 'Save & test' and pool health checks: pgx v5 sends the simple query '-- ping' (a comment only); the older lib/pq code path sends ';'
-- note: the server must answer with EmptyQueryResponse + ReadyForQuery; the SQL of this entry is just the comment line (the terminating ';' is on its own line)
-- ping
;

-- name: grafana/detect-version
-- source: grafana/grafana public/app/plugins/datasource/grafana-postgresql-datasource/postgresMetaQuery.ts (getVersion, used by configuration/useAutoDetectFeatures.ts)
-- note: sent when a data source is created/saved; current_setting('server_version_num')::int/100
-- note: followed (version >= 906) by: SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'
SELECT current_setting('server_version_num')::int/100 as version;

-- name: grafana/list-tables
-- source: grafana/grafana public/app/plugins/datasource/grafana-postgresql-datasource/postgresMetaQuery.ts (showTables, buildSchemaConstraint)
-- note: query-builder table dropdown; sent through the backend (pgx, extended protocol)
-- note: generate_series over array_lower/array_upper(string_to_array(current_setting('search_path'),',')), array subscript s[i] with a column index, comma join with a set-returning function, bare 'user' keyword, quote_ident
SELECT
    CASE WHEN
          quote_ident(table_schema) IN (
          SELECT
            CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
          FROM
            generate_series(
              array_lower(string_to_array(current_setting('search_path'),','),1),
              array_upper(string_to_array(current_setting('search_path'),','),1)
            ) as i,
            string_to_array(current_setting('search_path'),',') s
          )
      THEN quote_ident(table_name)
      ELSE quote_ident(table_schema) || '.' || quote_ident(table_name)
    END AS "table"
    FROM information_schema.tables
    WHERE quote_ident(table_schema) NOT IN ('information_schema',
                             'pg_catalog',
                             '_timescaledb_cache',
                             '_timescaledb_catalog',
                             '_timescaledb_internal',
                             '_timescaledb_config',
                             'timescaledb_information',
                             'timescaledb_experimental')
    ORDER BY CASE WHEN
          quote_ident(table_schema) IN (
          SELECT
            CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
          FROM
            generate_series(
              array_lower(string_to_array(current_setting('search_path'),','),1),
              array_upper(string_to_array(current_setting('search_path'),','),1)
            ) as i,
            string_to_array(current_setting('search_path'),',') s
          ) THEN 0 ELSE 1 END, 1;

-- name: grafana/list-columns
-- source: grafana/grafana public/app/plugins/datasource/grafana-postgresql-datasource/postgresMetaQuery.ts (getSchema('orders'))
-- note: query-builder column dropdown for table 'orders'; parse_ident(text) returning text[] with subscripts, array_length, plus the same search_path expansion
SELECT quote_ident(column_name) AS "column", data_type AS "type"
    FROM information_schema.columns
    WHERE
      CASE WHEN array_length(parse_ident('orders'),1) = 2
        THEN quote_ident(table_schema) = (parse_ident('orders'))[1]
          AND quote_ident(table_name) = (parse_ident('orders'))[2]
        ELSE quote_ident(table_name) = 'orders'
          AND
          quote_ident(table_schema) IN (
          SELECT
            CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
          FROM
            generate_series(
              array_lower(string_to_array(current_setting('search_path'),','),1),
              array_upper(string_to_array(current_setting('search_path'),','),1)
            ) as i,
            string_to_array(current_setting('search_path'),',') s
          )
      END;

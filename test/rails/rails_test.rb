# frozen_string_literal: true
#
# test/rails/rails_test.rb -- ActiveRecord 6.1 migrations (Debian's
# ruby-activerecord and ruby-pg) against a server running migguard, with
# contrib/rails/migguard_tag.rb loaded.  TAP output, run by
# `prove --exec ruby`; connection settings from libpq's environment (PGHOST,
# PGPORT, PGUSER, a superuser).  Creates and drops the database
# migguard_rails, whose migguard.large_table_size is 64kB.  The migrations are
# files in a temporary directory, run by ActiveRecord::MigrationContext as
# `rails db:migrate` runs them:
#
#   20240501000001_create_items          create_table, 5000 rows                  migrated
#   20240501000002_add_index_on_items    add_index :items, :name (in a transaction) blocked, MG001 in the error
#   20240501000002_add_index_on_items    rewritten: disable_ddl_transaction!,
#                                        algorithm: :concurrently                 migrated

require "active_record"
require "pg"
require "tmpdir"
require_relative "../../contrib/rails/migguard_tag"

DB = "migguard_rails"
$n = 0
$fails = 0

def ok(cond, desc)
  $n += 1
  puts "#{cond ? 'ok' : 'not ok'} #{$n} - #{desc}"
  $fails += 1 unless cond
  cond
end

def diag(text)
  text.to_s.each_line { |l| puts "# #{l}" }
end

def q(sql)
  ActiveRecord::Base.connection.select_value(sql)
end

# The blocked row is written by migguard's background worker: give it a moment.
def eventually
  20.times do
    return true if yield
    sleep 0.2
  end
  false
end

# migration(DIR, VERSION, NAME, BODY): write DIR/VERSION_NAME.rb.
def migration(dir, version, name, body)
  klass = name.split("_").map(&:capitalize).join
  File.write(File.join(dir, "#{version}_#{name}.rb"), <<~RB)
    class #{klass} < ActiveRecord::Migration[6.1]
    #{body}
    end
  RB
end

# migrate(DIR): what `rails db:migrate` does, as if in a new process:
# MigrationProxy requires each file once per process, so forget the files and
# classes of earlier runs (an edited migration is loaded afresh).  Returns the
# error raised, or nil.
def migrate(dir)
  Dir[File.join(dir, "*.rb")].each do |f|
    $LOADED_FEATURES.delete(File.expand_path(f))
    klass = File.basename(f, ".rb").sub(/\A\d+_/, "").camelize
    Object.send(:remove_const, klass) if Object.const_defined?(klass, false)
  end
  ActiveRecord::MigrationContext.new(dir, ActiveRecord::SchemaMigration).migrate
  nil
rescue StandardError => e
  e
end

# The PG::Error under E (ActiveRecord wraps it twice), or nil.
def pg_error(e)
  e = e.cause while e && !e.is_a?(PG::Error)
  e
end

puts "1..11"
admin = PG.connect(dbname: "postgres")
admin.exec("SET client_min_messages = warning")
admin.exec("DROP DATABASE IF EXISTS #{DB}")
admin.exec("CREATE DATABASE #{DB}")
admin.exec("ALTER DATABASE #{DB} SET migguard.large_table_size = '64kB'")
ActiveRecord::Base.establish_connection(adapter: "postgresql", database: DB)
ActiveRecord::Base.connection.execute("CREATE EXTENSION migguard")

Dir.mktmpdir do |dir|
  migration(dir, "20240501000001", "create_items", <<~RB)
    def change
      create_table :items do |t|
        t.text :name
      end
      execute "INSERT INTO items (name) SELECT 'item ' || g FROM generate_series(1, 5000) g"
    end
  RB
  e = migrate(dir)
  ok(e.nil?, "migration create_items runs") || diag(e)
  ok(q("SELECT count(*) FROM migguard.change_log WHERE tag = '20240501000001_create_items' " \
       "AND command_tag = 'CREATE TABLE'").to_i == 1,
     "create_items is recorded in change_log under <version>_<name> (contrib/rails)")

  # The unsafe form: a plain CREATE INDEX of the large table.
  migration(dir, "20240501000002", "add_index_on_items", <<~RB)
    def change
      add_index :items, :name
    end
  RB
  e = migrate(dir)
  ok(!e.nil?, "add_index on the large table fails the migration")
  ok(e.to_s.include?("would block writes for the whole index build") && e.to_s.include?("create_index"),
     "the raised error carries migguard's message and rule name") || diag(e)
  pe = pg_error(e)
  ok(pe && pe.result && pe.result.error_field(PG::PG_DIAG_SQLSTATE) == "MG001",
     "the PG::Error under it has SQLSTATE MG001") || diag(pe.inspect)
  ok(eventually do
       q("SELECT count(*) FROM migguard.change_log WHERE tag = '20240501000002_add_index_on_items' " \
         "AND verdict = 'blocked' AND command_tag = 'CREATE INDEX'").to_i >= 1
     end,
     "the blocked attempt is recorded under the migration's tag")
  ok(q("SELECT to_regclass('index_items_on_name') IS NULL AND NOT EXISTS " \
       "(SELECT FROM schema_migrations WHERE version = '20240501000002')"),
     "no index was built and the migration is not marked as run")

  # The safe form.
  migration(dir, "20240501000002", "add_index_on_items", <<~RB)
    disable_ddl_transaction!

    def change
      add_index :items, :name, algorithm: :concurrently
    end
  RB
  e = migrate(dir)
  ok(e.nil?, "add_index algorithm: :concurrently with disable_ddl_transaction! runs") || diag(e)
  ok(q("SELECT count(*) FROM migguard.change_log WHERE tag = '20240501000002_add_index_on_items' " \
       "AND verdict = 'allowed' AND command_tag = 'CREATE INDEX'").to_i == 1 &&
     q("SELECT to_regclass('index_items_on_name') IS NOT NULL"),
     "the index exists and its concurrent build is recorded as allowed under the migration's tag")
  ok(q("SELECT current_setting('migguard.tag')") == "",
     "migguard.tag is restored after the migrations")
end

# The tag is quoted, not pasted into the SET.
conn = ActiveRecord::Base.connection
inside = MigguardTag.tagged(conn, "it's; RESET ALL") { q("SELECT current_setting('migguard.tag')") }
ok(inside == "it's; RESET ALL", "MigguardTag.tagged quotes the tag") || diag(inside.inspect)

ActiveRecord::Base.remove_connection
admin.exec("DROP DATABASE #{DB}")
exit($fails.zero? ? 0 : 1)

# frozen_string_literal: true
#
# contrib/rails/migguard_tag.rb -- label each ActiveRecord migration's DDL in
# migguard's audit log.
#
# migguard records every DDL statement in migguard.change_log together with
# the value of the migguard.tag setting at the time.  This file sets that tag
# to the migration's file name without ".rb", "<version>_<name>" (for example
# 20240501120000_add_index_on_items_name), while ActiveRecord runs the
# migration up, and to "<version>_<name>:down" while it runs it down, so that
#
#     SELECT command_tag, verdict, statement
#       FROM migguard.change_log WHERE tag = '20240501120000_add_index_on_items_name';
#
# lists what the migration did, including the attempts migguard blocked.
#
# Usage (Rails): copy this file to config/initializers/migguard_tag.rb, or
# require it from one.  Without Rails: require it after "active_record".
#
# How it works: ActiveRecord::Migrator#execute_migration_in_transaction opens
# the migration's transaction (none with disable_ddl_transaction!) and runs
# it.  The module prepended here runs, before that and so outside the
# transaction,
#
#     SET migguard.tag = '<version>_<name>'
#
# (the value quoted by the connection's own quoting) -- a session-level SET,
# so it covers migrations without a transaction (add_index ... algorithm:
# :concurrently) too, and it is not undone by the rollback of a blocked
# migration before migguard records the attempt.  Afterwards the previous
# value is put back.  Connections that are not PostgreSQL are left alone; on
# a PostgreSQL server without migguard the setting is a harmless placeholder.
# migguard keeps the first 127 bytes of a tag in the rows of blocked attempts.

require "active_record"

module MigguardTag
  SETTING = "migguard.tag"

  # The tag recorded for MIGRATION (an ActiveRecord::MigrationProxy or a
  # Migration): its file name without ".rb" when known, else
  # "<version>_<underscored class name>"; ":down" appended when reverting.
  def self.tag_for(migration, direction)
    file = migration.respond_to?(:filename) ? migration.filename : nil
    tag = file ? File.basename(file, ".rb") : "#{migration.version}_#{migration.name.underscore}"
    direction == :down ? "#{tag}:down" : tag
  end

  # Run the block with migguard.tag set to TAG on CONNECTION, then restore
  # the previous value.  Also usable on its own around hand-run DDL:
  #
  #     MigguardTag.tagged(ActiveRecord::Base.connection, "backfill-2024-05") { ... }
  def self.tagged(connection, tag)
    return yield unless connection.adapter_name.match?(/postg/i)

    previous = connection.select_value("SELECT pg_catalog.current_setting('#{SETTING}', true)").to_s
    connection.execute("SET #{SETTING} = #{connection.quote(tag)}")
    failed = false
    begin
      yield
    rescue Exception # rubocop:disable Lint/RescueException
      failed = true
      raise
    ensure
      begin
        # The migration's transaction is over (committed or rolled back), so
        # the connection takes commands again.
        connection.execute("SET #{SETTING} = #{connection.quote(previous)}")
      rescue StandardError
        # Never hide the migration's own error behind one from the restore.
        raise unless failed
      end
    end
  end

  # Prepended to ActiveRecord::Migrator (ActiveRecord 6.1 and later).
  module Migrator
    private

    def execute_migration_in_transaction(migration, *)
      MigguardTag.tagged(ActiveRecord::Base.connection, MigguardTag.tag_for(migration, @direction)) do
        super
      end
    end
  end
end

ActiveRecord::Migrator.prepend(MigguardTag::Migrator)

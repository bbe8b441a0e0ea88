import GRDB

extension Migrations {
    static func registerAdminListIndexes(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v17-admin-list-indexes") { db in
            // The admin pages list accounts, sellers by status, reviews and orders newest first,
            // a page at a time. With these indexes a page reads its rows in order and stops,
            // instead of sorting a whole table (a store may have many users, reviews and orders).
            // `id` breaks ties in every such ORDER BY, so it is part of each index too.
            try db.create(index: "users_created", on: "users", columns: ["created_at", "id"])
            try db.create(index: "users_role_created", on: "users", columns: ["role", "created_at", "id"])
            try db.create(index: "users_role_status_created", on: "users", columns: ["role", "seller_status", "created_at", "id"])
            try db.create(index: "reviews_created", on: "reviews", columns: ["created_at", "id"])
            try db.create(index: "orders_created", on: "orders", columns: ["created_at", "id"])
        }
    }
}

extension Migrations {
    /// The admin's account search finds an e-mail by any part of it ("contains") through a
    /// trigram index instead of reading every address: with 100,000 accounts a search that
    /// matched nothing took 29 ms. Kept by triggers, whoever writes the users table.
    static func registerUserEmailSearch(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v32-user-email-search") { db in
            try db.execute(
                sql: """
                    CREATE VIRTUAL TABLE user_email_search USING fts5(
                        email, content = 'users', content_rowid = 'rowid', tokenize = 'trigram');
                    INSERT INTO user_email_search (user_email_search) VALUES ('rebuild');
                    CREATE TRIGGER users_email_search_insert AFTER INSERT ON users BEGIN
                        INSERT INTO user_email_search (rowid, email) VALUES (NEW.rowid, NEW.email);
                    END;
                    CREATE TRIGGER users_email_search_update AFTER UPDATE OF email ON users WHEN NEW.email IS NOT OLD.email BEGIN
                        INSERT INTO user_email_search (user_email_search, rowid, email) VALUES ('delete', OLD.rowid, OLD.email);
                        INSERT INTO user_email_search (rowid, email) VALUES (NEW.rowid, NEW.email);
                    END;
                    CREATE TRIGGER users_email_search_delete AFTER DELETE ON users BEGIN
                        INSERT INTO user_email_search (user_email_search, rowid, email) VALUES ('delete', OLD.rowid, OLD.email);
                    END;
                    """)
        }
    }
}

extension Migrations {
    /// The account search's trigram index holds each address with its account's id, under rowids
    /// of its own: v32 keyed it on the users table's rowid, which `VACUUM` (and `VACUUM INTO`, a
    /// backup) may renumber in a table whose key is text, leaving the index pointing at other
    /// accounts. Kept by triggers as before.
    static func registerUserEmailIndex(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v38-user-email-index") { db in
            try db.execute(
                sql: """
                    DROP TRIGGER users_email_search_insert;
                    DROP TRIGGER users_email_search_update;
                    DROP TRIGGER users_email_search_delete;
                    DROP TABLE user_email_search;
                    CREATE VIRTUAL TABLE user_emails USING fts5(email, user_id UNINDEXED, tokenize = 'trigram');
                    INSERT INTO user_emails (email, user_id) SELECT email, id FROM users;
                    CREATE TRIGGER users_emails_insert AFTER INSERT ON users BEGIN
                        INSERT INTO user_emails (email, user_id) VALUES (NEW.email, NEW.id);
                    END;
                    CREATE TRIGGER users_emails_update AFTER UPDATE OF email ON users WHEN NEW.email IS NOT OLD.email BEGIN
                        DELETE FROM user_emails WHERE rowid IN (
                            SELECT rowid FROM user_emails WHERE user_emails MATCH '"' || replace(OLD.email, '"', '""') || '"'
                        ) AND user_id = OLD.id;
                        INSERT INTO user_emails (email, user_id) VALUES (NEW.email, NEW.id);
                    END;
                    CREATE TRIGGER users_emails_delete AFTER DELETE ON users BEGIN
                        DELETE FROM user_emails WHERE rowid IN (
                            SELECT rowid FROM user_emails WHERE user_emails MATCH '"' || replace(OLD.email, '"', '""') || '"'
                        ) AND user_id = OLD.id;
                    END;
                    """)
        }
    }
}

import GRDB

extension Migrations {
    /// A seller's figures kept by triggers as orders move, instead of summed from every sale
    /// line on each visit: with 100,000 sales the sales page took 160–550 ms and the customer
    /// list 150 ms, and a seller with no sales waited 45–65 ms for their (empty) order list
    /// while the store's other orders were scanned for theirs.
    ///
    /// - `seller_orders`: each order a seller has a line in, by when it was placed (their
    ///   order lists).
    /// - `seller_sales_days`: per seller, UTC day and currency, the revenue (the seller's share)
    ///   and distinct orders of sold orders (`SalesStats.countedStatuses`, paid): the chart.
    /// - `seller_product_sales`: the same per product and per day, week (from Monday) and month:
    ///   top products and conversion, read for the chart's period only, already in its buckets.
    /// - `seller_customers`: per seller, buyer and currency, the sold orders, spent, first and
    ///   last payment. A sale adds to its row; an order that stops counting (refunded in full)
    ///   has its rows counted again from that buyer's orders, so first and last stay exact.
    /// - `seller_money` and `seller_money_exceptions`: payouts (`Payouts.countedStatuses`, real
    ///   money only): gross, fees, and the seller's share of the orders with no refund and no
    ///   dispute. Orders with either are listed apart, each time they change, and shared out in
    ///   Swift (`Payouts.shares`, largest remainders): by `AppDatabase.settleMoneyShares` every
    ///   few seconds, and by the balance read itself for any not settled yet.
    ///
    /// The status lists are written out as they were when this migration was made: a later
    /// change to `SalesStats.countedStatuses` or `Payouts.countedStatuses` needs a migration
    /// that replaces these triggers and counts again.
    static func registerSellerFigures(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v31-seller-figures") { db in
            try db.execute(sql: sellerFiguresSQL)
        }
    }

    /// Whether an order's lines count in the seller's sales numbers (`X` is `OLD`, `NEW` or `o`).
    private static func sold(_ x: String) -> String {
        "(\(x).status IN ('paid', 'fulfilled', 'completed', 'partially_refunded', 'disputed') AND \(x).paid_at IS NOT NULL)"
    }

    /// Whether an order's lines count in payouts.
    private static func money(_ x: String) -> String {
        """
        (\(x).status IN ('paid', 'fulfilled', 'completed', 'partially_refunded', 'refunded', 'disputed') \
        AND NOT (\(x).provider = 'test' AND \(x).total > 0))
        """
    }

    /// A money-counted order whose shares need working out: refunded in part or whole, or disputed.
    private static func exception(_ x: String) -> String {
        "(\(money(x)) AND (\(x).refunded_amount > 0 OR \(x).status = 'disputed'))"
    }

    /// The key of what an order adds to the sales numbers: when it was paid, or NULL when not
    /// sold (the whole time, not its day: a customer's first and last payment follow it).
    private static func salesKey(_ x: String) -> String {
        "(CASE WHEN \(sold(x)) THEN \(x).paid_at END)"
    }

    /// The key of what an order adds to payouts: NULL, 'settled' or 'exception'.
    private static func moneyKey(_ x: String) -> String {
        "(CASE WHEN \(exception(x)) THEN 'exception' WHEN \(money(x)) THEN 'settled' END)"
    }

    /// What order `x`'s lines add to (`sign` 1) or take from (-1) the day and product rows.
    private static func salesRows(_ x: String, sign: Int) -> String {
        """
        INSERT INTO seller_sales_days (seller_id, day, currency, revenue, orders)
        SELECT i.seller_id, substr(\(x).paid_at, 1, 10), \(x).currency, \(sign) * SUM(i.seller_amount), \(sign)
        FROM order_items i WHERE i.order_id = \(x).id AND \(sold(x)) GROUP BY i.seller_id
        ON CONFLICT DO UPDATE SET revenue = revenue + excluded.revenue, orders = orders + excluded.orders;
        INSERT INTO seller_product_sales (seller_id, period, start, currency, product_id, revenue, sold, orders)
        SELECT i.seller_id, p.period,
               CASE p.period WHEN 'day' THEN substr(\(x).paid_at, 1, 10)
                             WHEN 'week' THEN date(substr(\(x).paid_at, 1, 10), '-6 days', 'weekday 1')
                             ELSE substr(\(x).paid_at, 1, 7) || '-01' END,
               \(x).currency, i.product_id, \(sign) * SUM(i.seller_amount), \(sign) * COUNT(*), \(sign)
        FROM order_items i, (SELECT 'day' AS period UNION ALL SELECT 'week' UNION ALL SELECT 'month') p
        WHERE i.order_id = \(x).id AND \(sold(x)) GROUP BY i.seller_id, p.period, i.product_id
        ON CONFLICT DO UPDATE SET revenue = revenue + excluded.revenue, sold = sold + excluded.sold,
                                  orders = orders + excluded.orders;
        """
    }

    /// What order `x`'s lines add to (`sign` 1) or take from (-1) the money rows.
    private static func moneyRows(_ x: String, sign: Int) -> String {
        """
        INSERT INTO seller_money (seller_id, currency, lines, gross, fees, settled)
        SELECT i.seller_id, \(x).currency, \(sign) * COUNT(*), \(sign) * SUM(i.amount), \(sign) * SUM(i.fee_amount),
               CASE WHEN \(exception(x)) THEN 0 ELSE \(sign) * SUM(i.seller_amount) END
        FROM order_items i WHERE i.order_id = \(x).id AND \(money(x)) GROUP BY i.seller_id
        ON CONFLICT DO UPDATE SET lines = lines + excluded.lines, gross = gross + excluded.gross,
                                  fees = fees + excluded.fees, settled = settled + excluded.settled;
        """
    }

    /// The customer rows of order `o`'s sellers and buyer, counted from that buyer's sold orders.
    private static let customerRowsCounted = """
        SELECT i.seller_id, o.buyer_id, o.currency, COUNT(DISTINCT o.id), SUM(i.seller_amount), MIN(o.paid_at), MAX(o.paid_at)
        FROM orders o JOIN order_items i ON i.order_id = o.id
        """

    static let sellerFiguresSQL = """
        CREATE TABLE seller_orders (
            seller_id TEXT NOT NULL, created_at DATETIME NOT NULL, order_id TEXT NOT NULL,
            PRIMARY KEY (seller_id, created_at, order_id)) WITHOUT ROWID;
        INSERT OR IGNORE INTO seller_orders (seller_id, created_at, order_id)
            SELECT i.seller_id, o.created_at, o.id FROM order_items i JOIN orders o ON o.id = i.order_id;
        CREATE TRIGGER order_items_seller_orders AFTER INSERT ON order_items BEGIN
            INSERT OR IGNORE INTO seller_orders (seller_id, created_at, order_id)
                SELECT NEW.seller_id, created_at, id FROM orders WHERE id = NEW.order_id;
        END;

        CREATE TABLE seller_sales_days (
            seller_id TEXT NOT NULL, day TEXT NOT NULL, currency TEXT NOT NULL,
            revenue INTEGER NOT NULL, orders INTEGER NOT NULL,
            PRIMARY KEY (seller_id, day, currency)) WITHOUT ROWID;
        CREATE TABLE seller_product_sales (
            seller_id TEXT NOT NULL, period TEXT NOT NULL, start TEXT NOT NULL, currency TEXT NOT NULL,
            product_id TEXT NOT NULL, revenue INTEGER NOT NULL, sold INTEGER NOT NULL, orders INTEGER NOT NULL,
            PRIMARY KEY (seller_id, period, start, currency, product_id)) WITHOUT ROWID;
        CREATE TABLE seller_customers (
            seller_id TEXT NOT NULL, buyer_id TEXT NOT NULL, currency TEXT NOT NULL,
            orders INTEGER NOT NULL, spent INTEGER NOT NULL, first_paid_at DATETIME NOT NULL, last_paid_at DATETIME NOT NULL,
            PRIMARY KEY (seller_id, buyer_id, currency)) WITHOUT ROWID;
        CREATE INDEX seller_customers_recent ON seller_customers (seller_id, last_paid_at);
        CREATE TABLE seller_money (
            seller_id TEXT NOT NULL, currency TEXT NOT NULL, lines INTEGER NOT NULL,
            gross INTEGER NOT NULL, fees INTEGER NOT NULL, settled INTEGER NOT NULL,
            PRIMARY KEY (seller_id, currency)) WITHOUT ROWID;
        CREATE TABLE seller_money_exceptions (
            seller_id TEXT NOT NULL, order_id TEXT NOT NULL, currency TEXT NOT NULL,
            refunds INTEGER, owed INTEGER, on_hold INTEGER,
            PRIMARY KEY (seller_id, order_id)) WITHOUT ROWID;
        CREATE INDEX seller_money_exceptions_unsettled ON seller_money_exceptions (order_id) WHERE refunds IS NULL;

        INSERT INTO seller_sales_days (seller_id, day, currency, revenue, orders)
            SELECT i.seller_id, substr(o.paid_at, 1, 10), o.currency, SUM(i.seller_amount), COUNT(DISTINCT o.id)
            FROM order_items i JOIN orders o ON o.id = i.order_id WHERE \(sold("o"))
            GROUP BY i.seller_id, substr(o.paid_at, 1, 10), o.currency;
        INSERT INTO seller_product_sales (seller_id, period, start, currency, product_id, revenue, sold, orders)
            SELECT i.seller_id, p.period,
                   CASE p.period WHEN 'day' THEN substr(o.paid_at, 1, 10)
                                 WHEN 'week' THEN date(substr(o.paid_at, 1, 10), '-6 days', 'weekday 1')
                                 ELSE substr(o.paid_at, 1, 7) || '-01' END AS start,
                   o.currency, i.product_id, SUM(i.seller_amount), COUNT(*), COUNT(DISTINCT o.id)
            FROM order_items i JOIN orders o ON o.id = i.order_id,
                 (SELECT 'day' AS period UNION ALL SELECT 'week' UNION ALL SELECT 'month') p
            WHERE \(sold("o"))
            GROUP BY i.seller_id, p.period, start, o.currency, i.product_id;
        INSERT INTO seller_customers (seller_id, buyer_id, currency, orders, spent, first_paid_at, last_paid_at)
            \(customerRowsCounted) WHERE \(sold("o")) GROUP BY i.seller_id, o.buyer_id, o.currency;
        INSERT INTO seller_money (seller_id, currency, lines, gross, fees, settled)
            SELECT i.seller_id, o.currency, COUNT(*), SUM(i.amount), SUM(i.fee_amount),
                   SUM(CASE WHEN \(exception("o")) THEN 0 ELSE i.seller_amount END)
            FROM order_items i JOIN orders o ON o.id = i.order_id WHERE \(money("o"))
            GROUP BY i.seller_id, o.currency;
        INSERT OR IGNORE INTO seller_money_exceptions (seller_id, order_id, currency)
            SELECT i.seller_id, o.id, o.currency FROM order_items i JOIN orders o ON o.id = i.order_id WHERE \(exception("o"));

        CREATE TRIGGER orders_sales_figures AFTER UPDATE OF status, paid_at ON orders
        WHEN \(salesKey("OLD")) IS NOT \(salesKey("NEW")) BEGIN
            \(salesRows("OLD", sign: -1))
            \(salesRows("NEW", sign: 1))
            INSERT INTO seller_customers (seller_id, buyer_id, currency, orders, spent, first_paid_at, last_paid_at)
                SELECT i.seller_id, NEW.buyer_id, NEW.currency, 1, SUM(i.seller_amount), NEW.paid_at, NEW.paid_at
                FROM order_items i WHERE i.order_id = NEW.id AND \(sold("NEW")) AND NOT \(sold("OLD")) GROUP BY i.seller_id
                ON CONFLICT DO UPDATE SET orders = orders + 1, spent = spent + excluded.spent,
                    first_paid_at = min(first_paid_at, excluded.first_paid_at),
                    last_paid_at = max(last_paid_at, excluded.last_paid_at);
            DELETE FROM seller_customers
                WHERE \(sold("OLD")) AND buyer_id = NEW.buyer_id AND currency = NEW.currency
                  AND seller_id IN (SELECT seller_id FROM order_items WHERE order_id = NEW.id);
            INSERT INTO seller_customers (seller_id, buyer_id, currency, orders, spent, first_paid_at, last_paid_at)
                \(customerRowsCounted)
                WHERE \(sold("OLD")) AND o.buyer_id = NEW.buyer_id AND o.currency = NEW.currency AND \(sold("o"))
                  AND i.seller_id IN (SELECT seller_id FROM order_items WHERE order_id = NEW.id)
                GROUP BY i.seller_id;
        END;

        CREATE TRIGGER orders_money_figures AFTER UPDATE OF status, refunded_amount ON orders
        WHEN \(moneyKey("OLD")) IS NOT \(moneyKey("NEW")) BEGIN
            \(moneyRows("OLD", sign: -1))
            \(moneyRows("NEW", sign: 1))
        END;

        CREATE TRIGGER orders_money_shares AFTER UPDATE OF status, refunded_amount ON orders
        WHEN \(exception("OLD")) OR \(exception("NEW")) BEGIN
            DELETE FROM seller_money_exceptions
                WHERE order_id = NEW.id AND seller_id IN (SELECT seller_id FROM order_items WHERE order_id = NEW.id);
            INSERT OR IGNORE INTO seller_money_exceptions (seller_id, order_id, currency)
                SELECT seller_id, NEW.id, NEW.currency FROM order_items WHERE order_id = NEW.id AND \(exception("NEW"));
        END;

        CREATE INDEX orders_buyer_created ON orders (buyer_id, created_at, id);
        DROP INDEX orders_on_buyer_id;
        CREATE INDEX orders_status_created ON orders (status, created_at, id);
        """
}

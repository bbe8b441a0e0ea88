import Foundation
import Hummingbird
import SoukCore
import SoukDatabase

/// `/dashboard/export`: the seller's own data for download, the same tables `souk export
/// --seller` writes (`StoreExport` over `AppDatabase.exportSnapshot`): their products, the lines
/// of theirs in orders, their customers, the reviews and license keys of their products, their
/// payouts. Verified sellers (and admins, for their own products) only, like every dashboard page.
struct DashboardExport: Sendable {
    let services: AppServices

    func register(on router: Router<SoukRequestContext>) {
        router.get("dashboard/export", use: index)
        router.get("dashboard/export/:file", use: download)
    }

    @Sendable func index(_ request: Request, context: SoukRequestContext) async throws -> Response {
        guard context.identity != nil else { return Pages.redirect(to: "/signin?next=/dashboard/export") }
        try context.require(.verifiedSeller)
        return services.pages.render(
            "dashboard_export", title: "Export", context: context,
            [
                "files": StoreExport.Dataset.allCases.map { dataset -> [String: Any] in
                    [
                        "name": dataset.rawValue, "csv_url": "/dashboard/export/\(dataset.rawValue).csv",
                        "json_url": "/dashboard/export/\(dataset.rawValue).json",
                    ]
                }
            ])
    }

    /// `NAME.csv` or `NAME.json` as an attachment. 404 for any other name.
    @Sendable func download(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let file = try context.decodedParameter("file")
        guard context.identity != nil else { return Pages.redirect(to: "/signin?next=/dashboard/export") }
        let seller = try context.require(.verifiedSeller)
        let parts = file.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let dataset = StoreExport.Dataset(rawValue: String(parts[0])), ["csv", "json"].contains(parts[1])
        else {
            throw SoukError(
                .notFound, "There is no export file \(file): /dashboard/export lists the files (NAME.csv or NAME.json).")
        }
        let table = StoreExport.table(dataset, from: try await services.database.exportSnapshot(sellerID: seller.id))
        let csv = parts[1] == "csv"
        context.logger.info("export downloaded", metadata: ["seller": "\(seller.id)", "file": "\(file)"])
        return Response(
            status: .ok,
            headers: [
                .contentType: csv ? "text/csv; charset=utf-8; header=present" : "application/json; charset=utf-8",
                .contentDisposition: DownloadRoutes.contentDisposition("souk-\(file)"),
                .cacheControl: "private, no-store",
            ],
            body: .init(byteBuffer: ByteBuffer(string: csv ? table.csv : table.json)))
    }
}

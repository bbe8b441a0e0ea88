import Foundation
import Hummingbird
import SoukCatalog
import SoukCore
import SoukDatabase

/// The seller dashboard: the seller's products in every status, create and edit forms, status
/// buttons, files (a streamed upload form; `/assets/upload.js` sends it through the JSON API
/// when JavaScript runs) and private pages.
/// Verified sellers and admins only (`SellerStanding`): a pending, rejected or suspended seller
/// gets 403 everywhere here; on `/dashboard` itself the page says why, with no action on it.
struct DashboardPages: Sendable {
    let services: AppServices
    var pages: Pages { services.pages }
    var catalog: CatalogService { services.catalog }

    func register(on router: Router<SoukRequestContext>) {
        router.get("dashboard", use: index)
        router.post("dashboard/page-address", use: setPageAddress)
        router.get("dashboard/new", use: newProduct)
        router.post("dashboard/products", use: create)
        router.get("dashboard/products/:id", use: edit)
        router.post("dashboard/products/:id", use: update)
        router.post("dashboard/products/:id/status", use: changeStatus)
        router.post("dashboard/products/:id/pages", use: putPage)
        router.post("dashboard/products/:id/files", use: uploadFile)
        router.post("dashboard/products/:id/images", use: uploadImage)
        router.post("dashboard/products/:id/images/:image/delete", use: deleteImage)
    }

    // MARK: Product list

    static let pageSize = 50

    @Sendable func index(_ request: Request, context: SoukRequestContext) async throws -> Response {
        guard let user = context.identity?.user else { return Pages.signInFirst(returningTo: request.uri.path) }
        // A seller not (or no longer) verified sees why, and nothing to act on.
        let standing = SellerStanding(of: user)
        if case .refused = standing {
            return pages.render(
                "dashboard", title: "Dashboard", status: .forbidden, context: context,
                ["standing_notice": standing.refusal ?? "", "standing_reason": user.sellerRefusalReason as Any])
        }
        let seller = try context.require(.verifiedSeller)
        let query = request.uri.queryParameters
        let position = AppDatabase.ListPosition.asked(older: query.get("older"), newer: query.get("newer"))
        var values: [String: Any] = [:]
        if query.get("address") == "saved" { values["address_saved"] = true }
        return try await renderIndex(seller: seller, from: position, context: context, values)
    }

    /// The product list (a page at a time: a seller with thousands would otherwise wait for
    /// all) and the seller's page address form.
    func renderIndex(
        seller: User, from position: AppDatabase.ListPosition? = nil, status: HTTPResponse.Status = .ok,
        context: SoukRequestContext, _ extra: [String: Any]
    ) async throws -> Response {
        // One more than a page, to know whether there is another beyond it.
        let (found, applied) = try await services.database.sellerProducts(
            sellerID: seller.id, from: position, limit: Self.pageSize + 1)
        let page = PositionedPage(found, from: applied, size: Self.pageSize)
        let (products, older, newer) = (page.items, page.hasOlder, page.hasNewer)
        var values: [String: Any] = [
            "page_path": SellerSlug.pagePath(for: seller), "page_address": seller.slug ?? "",
        ]
        values.merge(extra) { $1 }
        if older, let last = products.last { values["older_url"] = "/dashboard?older=\(last.id)" }
        if newer, let first = products.first { values["newer_url"] = "/dashboard?newer=\(first.id)" }
        if !products.isEmpty {
            let covers = try await services.database.covers(productIDs: products.map(\.id))
            values["products"] = products.map { product -> [String: Any] in
                var card = StoreViews.card(product, cover: covers[product.id])
                card["edit_url"] = "/dashboard/products/\(product.id)"
                card["updated_at"] = DateViews.moment(product.updatedAt)
                return card
            }
        }
        return pages.render("dashboard", title: "Dashboard", status: status, context: context, values)
    }

    struct PageAddressForm: Decodable {
        var address: String?
    }

    /// `POST /dashboard/page-address`: the address of the seller's page (`/sellers/<address>`);
    /// blank goes back to the address by id. A refused one is shown again beside the form.
    @Sendable func setPageAddress(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let seller = try context.require(.verifiedSeller)
        let form = try await request.decodeForm(PageAddressForm.self, limit: services.maxBodyBytes)
        do {
            let slug = try SellerSlug.normalize(form.address)
            _ = try await services.database.setSlug(userID: seller.id, slug)
            return Pages.redirect(to: "/dashboard?address=saved")
        } catch let error as SoukError where error.code == .validationFailed || error.code == .conflict {
            return try await renderIndex(
                seller: seller, status: ProblemMapping.status(for: error.code), context: context,
                ["page_address": form.address ?? "", "address_error": error.detail])
        }
    }

    // MARK: Create

    @Sendable func newProduct(_ request: Request, context: SoukRequestContext) async throws -> Response {
        guard context.identity != nil else { return Pages.signInFirst(returningTo: request.uri.path) }
        try context.require(.verifiedSeller)
        return pages.render(
            "dashboard_new", title: "New product", context: context,
            ["form": ProductForm(currency: services.settings.store.currency).values])
    }

    @Sendable func create(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let seller = try context.require(.verifiedSeller)
        let form = try await request.decodeForm(ProductForm.self, limit: services.maxBodyBytes)
        do {
            let fields = try form.fields(defaultCurrency: services.settings.store.currency)
            let product = try await catalog.create(ProductInput(fields), by: seller)
            context.logger.info("product created", metadata: ["product": "\(product.id)", "seller": "\(seller.id)"])
            return Pages.redirect(to: "/dashboard/products/\(product.id)?created=1")
        } catch let error as SoukError where error.code == .validationFailed {
            return pages.render(
                "dashboard_new", title: "New product", status: ProblemMapping.status(for: error.code), context: context,
                ["form": form.values, "error": error.detail])
        }
    }

    // MARK: Edit

    @Sendable func edit(_ request: Request, context: SoukRequestContext) async throws -> Response {
        guard context.identity != nil else { return Pages.signInFirst(returningTo: request.uri.path) }
        let (_, product) = try await ownProduct(context)
        let query = request.formQuery
        var extra: [String: Any] = [:]
        if query["created"] != nil { extra["flash"] = "Product created as a draft. Add files, then publish it." }
        if query["saved"] != nil { extra["flash"] = "Changes saved." }
        if let fileID = query["uploaded"], let file = try await services.database.file(id: fileID),
            file.productID == product.id
        {
            extra["flash"] = "Uploaded \(file.name) (version \(file.version))."
        }
        if let status = query["status"], let changed = ProductStatus(rawValue: status) {
            extra["flash"] =
                changed == .published
                ? "Published: the product is now listed in the store." : "The product is now \(status)."
        }
        if let slug = query["page"], let page = try await services.database.page(productID: product.id, slug: slug) {
            extra["page_form"] = ["slug": page.slug, "title": page.title, "body": page.body]
        }
        return try await editPage(product, form: ProductForm(product), context: context, extra: extra)
    }

    @Sendable func update(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let (user, product) = try await ownProduct(context)
        let form = try await request.decodeForm(ProductForm.self, limit: services.maxBodyBytes)
        do {
            let fields = try form.fields(defaultCurrency: product.price.currency)
            _ = try await catalog.update(id: product.id, ProductPatch(fields), by: user)
            return Pages.redirect(to: "/dashboard/products/\(product.id)?saved=1")
        } catch let error as SoukError where error.code == .validationFailed {
            return try await editPage(
                product, form: form, context: context, status: ProblemMapping.status(for: error.code),
                extra: ["error": error.detail])
        }
    }

    struct StatusForm: Decodable {
        var status: String?
    }

    @Sendable func changeStatus(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let (user, product) = try await ownProduct(context)
        let form = try await request.decodeForm(StatusForm.self, limit: services.maxBodyBytes)
        guard let status = form.status.flatMap(ProductStatus.init(rawValue:)) else {
            throw SoukError.validation("status", "Choose published, draft or archived.")
        }
        var patch = ProductPatch()
        patch.status = status
        _ = try await catalog.update(id: product.id, patch, by: user)
        context.logger.info("product status changed", metadata: ["product": "\(product.id)", "status": "\(status.rawValue)"])
        return Pages.redirect(to: "/dashboard/products/\(product.id)?status=\(status.rawValue)")
    }

    // MARK: Files

    /// The upload form without JavaScript: `multipart/form-data`, streamed to the blob store
    /// (with JavaScript, `/assets/upload.js` sends the same file to the JSON API instead).
    @Sendable func uploadFile(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let (user, owned) = try await ownProduct(context)
        let product = try await catalog.productForUpload(id: owned.id, by: user)
        guard let boundary = MultipartUpload.boundary(of: request.headers[.contentType]) else {
            throw SoukError(.unsupportedMediaType, "Send the file with the upload form (multipart/form-data).")
        }
        let maxMB = services.settings.storage.maxUploadMB
        let form = MultipartUpload(
            boundary: boundary, csrfToken: context.csrfToken, blobs: services.blobs, maxBytes: Int64(maxMB) * 1_048_576)
        do {
            if let length = request.headers[.contentLength].flatMap(Int64.init), length > form.maxBytes + 64 * 1024 {
                throw SoukError(.payloadTooLarge, "The file is larger than the upload limit of \(maxMB) MiB.")
            }
            let (name, blob) = try await form.receive(request.body) { try CatalogRules.fileName($0) }
            let file = try await catalog.attach(blob, name: name, to: product)
            context.logger.info(
                "file uploaded",
                metadata: ["product": "\(product.id)", "file": "\(file.id)", "version": "\(file.version)", "bytes": "\(file.size)"])
            return Pages.redirect(to: "/dashboard/products/\(product.id)?uploaded=\(file.id)#files")
        } catch let error as SoukError where [.validationFailed, .payloadTooLarge, .badRequest].contains(error.code) {
            return try await editPage(
                product, form: ProductForm(product), context: context, status: ProblemMapping.status(for: error.code),
                extra: ["upload_error": error.detail])
        }
    }

    // MARK: Private pages

    struct PageForm: Decodable {
        var slug: String?
        var title: String?
        var body: String?
    }

    @Sendable func putPage(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let (user, product) = try await ownProduct(context)
        let form = try await request.decodeForm(PageForm.self, limit: services.maxBodyBytes)
        let slug = (form.slug ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        do {
            _ = try await catalog.putPage(
                productID: product.id, slug: slug, title: form.title ?? "", body: form.body ?? "", by: user)
            return Pages.redirect(to: "/dashboard/products/\(product.id)?saved=1")
        } catch let error as SoukError where error.code == .validationFailed {
            return try await editPage(
                product, form: ProductForm(product), context: context, status: ProblemMapping.status(for: error.code),
                extra: [
                    "page_error": error.detail,
                    "page_form": ["slug": form.slug ?? "", "title": form.title ?? "", "body": form.body ?? ""],
                ])
        }
    }

    // MARK: Helpers

    /// The seller's own product from the `:id` parameter. Someone else's is "not found": product
    /// IDs of other sellers leak nothing, not even their existence.
    func ownProduct(_ context: SoukRequestContext) async throws -> (User, Product) {
        let user = try context.require(.verifiedSeller)
        let id = try context.decodedParameter("id")
        guard let product = try await services.database.product(id: id), product.sellerID == user.id else {
            throw SoukError.notFound("The product \(id)")
        }
        return (user, product)
    }

    func editPage(
        _ product: Product, form: ProductForm, context: SoukRequestContext, status: HTTPResponse.Status = .ok,
        extra: [String: Any] = [:]
    ) async throws -> Response {
        let files = try await services.database.currentFiles(productID: product.id)
        let privatePages = product.kind == .content ? try await services.database.pages(productID: product.id) : []
        let images = try await services.database.images(productID: product.id)
        let uploadPath = "/api/v1/products/\(product.id)/files"
        var values: [String: Any] = [
            "product": StoreViews.card(product),
            "upload_form_url": "/dashboard/products/\(product.id)/files",
            "form": form.values,
            "files": StoreViews.section(files.map(StoreViews.file)),
            "upload_url": uploadPath,
            "curl_command":
                "curl -X POST -H \"Authorization: Bearer $SOUK_TOKEN\" -H \"Content-Type: application/octet-stream\" "
                + "--data-binary @book.pdf \"\(services.settings.publicBaseURL)\(uploadPath)?filename=book.pdf\"",
            "images": StoreViews.section(
                images.map { image -> [String: Any] in
                    var values = StoreViews.picture(image, sizes: "160px")
                    values["delete_url"] = "/dashboard/products/\(product.id)/images/\(image.id)/delete"
                    values["is_cover"] = image.position == 0
                    return values
                }),
            "image_form_url": "/dashboard/products/\(product.id)/images",
            "can_publish": product.status != .published,
            "can_unpublish": product.status == .published,
            "can_archive": product.status != .archived,
            "is_content": product.kind == .content,
            "private_pages": StoreViews.section(
                privatePages.map { page -> [String: Any] in
                    [
                        "slug": page.slug, "title": page.title,
                        "edit_url": "/dashboard/products/\(product.id)?page=\(StoreViews.pathComponent(page.slug))#pages",
                    ]
                }),
        ]
        values.merge(extra) { $1 }
        return pages.render("dashboard_product", title: "Edit \(product.title)", status: status, context: context, values)
    }
}

import Foundation
import Hummingbird
import SoukCatalog
import SoukCore
import SoukDatabase

/// `/api/v1/products…` and `/api/v1/categories`.
struct ProductsAPI: Sendable {
    let services: AppServices
    var catalog: CatalogService { services.catalog }

    func register(on router: Router<SoukRequestContext>) {
        let api = router.group("api/v1")
        api.get("products", use: search)
        api.post("products", use: create)
        api.get("products/:id", use: show)
        api.patch("products/:id", use: update)
        api.delete("products/:id", use: archive)
        api.get("products/:id/files", use: files)
        api.post("products/:id/files", use: upload)
        api.put("products/:id/pages/:slug", use: putPage)
        api.get("products/:id/pages", use: pages)
        api.get("categories", use: categories)
    }

    // MARK: Reading

    @Sendable func search(_ request: Request, context: SoukRequestContext) async throws -> Response {
        context.allowAnyone()
        let query = try ProductQuery(parameters: request.queryDictionary)
        let results = try await services.database.search(query)
        return Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: try services.searchJSON.body(results))))
    }

    @Sendable func show(_ request: Request, context: SoukRequestContext) async throws -> JSONResponse<ProductBody> {
        let user = context.allowAnyone()
        let product = try await catalog.visibleProduct(id: try context.parameters.require("id"), to: user)
        return JSONResponse(body: ProductBody(product))
    }

    @Sendable func files(_ request: Request, context: SoukRequestContext) async throws -> JSONResponse<ListBody<FileBody>> {
        let user = context.allowAnyone()
        let product = try await catalog.visibleProduct(id: try context.parameters.require("id"), to: user)
        let files = try await services.database.currentFiles(productID: product.id)
        return JSONResponse(body: ListBody(data: files.map(FileBody.init), nextCursor: nil))
    }

    struct PageSummary: Encodable, Sendable {
        var slug: String
        var title: String
    }

    /// Page titles are public (they describe what a buyer gets); bodies are for owners (delivery).
    @Sendable func pages(_ request: Request, context: SoukRequestContext) async throws -> JSONResponse<ListBody<PageSummary>> {
        let user = context.allowAnyone()
        let product = try await catalog.visibleProduct(id: try context.parameters.require("id"), to: user)
        let pages = try await services.database.pages(productID: product.id)
        return JSONResponse(body: ListBody(data: pages.map { PageSummary(slug: $0.slug, title: $0.title) }, nextCursor: nil))
    }

    struct CategoryBody: Encodable, Sendable {
        var name: String
        var count: Int
    }

    @Sendable func categories(_ request: Request, context: SoukRequestContext) async throws
        -> JSONResponse<ListBody<CategoryBody>>
    {
        context.allowAnyone()
        let categories = try await services.database.categories()
        return JSONResponse(body: ListBody(data: categories.map { CategoryBody(name: $0.name, count: $0.count) }, nextCursor: nil))
    }

    // MARK: Writing

    struct CreateBody: Decodable {
        var title: String
        var summary: String?
        var description: String?
        var kind: ProductKind
        var category: String
        var tags: [String]?
        var price: Int
        var currency: String?
        var minPrice: Int?
        var stock: Int?
        var attributes: JSONValue?
        var downloadLimit: Int?
        var activationLimit: Int?

        enum CodingKeys: String, CodingKey {
            case title, summary, description, kind, category, tags, price, currency, stock, attributes
            case minPrice = "min_price"
            case downloadLimit = "download_limit"
            case activationLimit = "activation_limit"
        }
    }

    @Sendable func create(_ request: Request, context: SoukRequestContext) async throws -> JSONResponse<ProductBody> {
        let seller = try context.require(.verifiedSeller)
        let body = try await request.decodeJSON(CreateBody.self, limit: services.maxBodyBytes)
        var input = ProductInput(title: body.title, kind: body.kind, category: body.category, price: body.price)
        input.summary = body.summary ?? ""
        input.description = body.description ?? ""
        input.tags = body.tags ?? []
        input.currency = body.currency
        input.minPrice = body.minPrice
        input.stock = body.stock
        input.attributes = body.attributes
        input.downloadLimit = body.downloadLimit
        input.activationLimit = body.activationLimit
        let product = try await catalog.create(input, by: seller)
        context.logger.info("product created", metadata: ["product": "\(product.id)", "seller": "\(seller.id)"])
        return JSONResponse(status: .created, body: ProductBody(product), location: "/api/v1/products/\(product.id)")
    }

    @Sendable func update(_ request: Request, context: SoukRequestContext) async throws -> JSONResponse<ProductBody> {
        let user = try context.require(.sellerAction)
        let id = try context.parameters.require("id")
        let patch = try await request.decodeJSON(PatchBody.self, limit: services.maxBodyBytes).patch
        let product = try await catalog.update(id: id, patch, by: user)
        return JSONResponse(body: ProductBody(product))
    }

    /// DELETE archives the product and takes it out of the API for good (404 afterwards, to its
    /// seller too); orders, licenses and buyers' libraries keep referring to it. To take a product
    /// off sale and bring it back later, PATCH its status to `archived` instead.
    @Sendable func archive(_ request: Request, context: SoukRequestContext) async throws -> JSONResponse<ProductBody> {
        let user = try context.require(.sellerAction)
        let product = try await catalog.delete(id: try context.parameters.require("id"), by: user)
        return JSONResponse(body: ProductBody(product))
    }

    /// Streams the body to the blob store: never held in memory, hashed as it arrives, limited by
    /// `[storage] max_upload_mb`, stored under its SHA-256 and offered under a sanitised name.
    @Sendable func upload(_ request: Request, context: SoukRequestContext) async throws -> JSONResponse<FileBody> {
        let user = try context.require(.verifiedSeller)
        let product = try await catalog.productForUpload(id: try context.parameters.require("id"), by: user)
        guard let rawName = request.uri.queryParameters.get("filename") else {
            throw SoukError(.badRequest, "Name the file: POST …/files?filename=book.pdf", field: "filename")
        }
        let name = try CatalogRules.fileName(rawName)
        let maxBytes = Int64(services.settings.storage.maxUploadMB) * 1_048_576
        if let length = request.headers[.contentLength].flatMap(Int64.init), length > maxBytes {
            throw SoukError(.payloadTooLarge, "The file is \(length) bytes; the upload limit is \(services.settings.storage.maxUploadMB) MiB.")
        }
        let upload = try services.blobs.beginUpload(maxBytes: maxBytes)
        let stored: StoredBlob
        do {
            for try await chunk in request.body {
                try chunk.withUnsafeReadableBytes { try upload.write($0) }
            }
            stored = try upload.finish()
        } catch {
            upload.abort()
            throw error
        }
        let file = try await catalog.attach(stored, name: name, to: product)
        context.logger.info(
            "file uploaded",
            metadata: ["product": "\(product.id)", "file": "\(file.id)", "version": "\(file.version)", "bytes": "\(file.size)"])
        return JSONResponse(status: .created, body: FileBody(file))
    }

    struct PageInput: Decodable {
        var title: String
        var body: String
    }

    @Sendable func putPage(_ request: Request, context: SoukRequestContext) async throws -> JSONResponse<PageBody> {
        let user = try context.require(.verifiedSeller)
        let input = try await request.decodeJSON(PageInput.self, limit: services.maxBodyBytes)
        let page = try await catalog.putPage(
            productID: try context.parameters.require("id"), slug: try context.parameters.require("slug"),
            title: input.title, body: input.body, by: user)
        return JSONResponse(body: PageBody(page))
    }
}

/// PATCH body: every field optional; `null` clears a nullable field (min_price, stock, limits).
struct PatchBody: Decodable {
    var patch = ProductPatch()

    enum CodingKeys: String, CodingKey {
        case title, summary, description, kind, category, tags, price, currency, stock, attributes, status
        case minPrice = "min_price"
        case downloadLimit = "download_limit"
        case activationLimit = "activation_limit"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        patch.title = try c.decodeIfPresent(String.self, forKey: .title)
        patch.summary = try c.decodeIfPresent(String.self, forKey: .summary)
        patch.description = try c.decodeIfPresent(String.self, forKey: .description)
        patch.kind = try c.decodeIfPresent(ProductKind.self, forKey: .kind)
        patch.category = try c.decodeIfPresent(String.self, forKey: .category)
        patch.tags = try c.decodeIfPresent([String].self, forKey: .tags)
        patch.price = try c.decodeIfPresent(Int.self, forKey: .price)
        patch.currency = try c.decodeIfPresent(String.self, forKey: .currency)
        patch.attributes = try c.decodeIfPresent(JSONValue.self, forKey: .attributes)
        patch.status = try c.decodeIfPresent(ProductStatus.self, forKey: .status)
        func nullable(_ key: CodingKeys) throws -> Int?? {
            guard c.contains(key) else { return nil }
            return .some(try c.decodeNil(forKey: key) ? nil : try c.decode(Int.self, forKey: key))
        }
        patch.minPrice = try nullable(.minPrice)
        patch.stock = try nullable(.stock)
        patch.downloadLimit = try nullable(.downloadLimit)
        patch.activationLimit = try nullable(.activationLimit)
    }
}

import Crypto
import Foundation
import Logging
import SoukAuth
import SoukCatalog
import SoukCore
import SoukDatabase
import SoukDelivery
import SoukImages
import SoukOrders

/// Everything the routes need, built once by `buildApplication`.
struct AppServices: Sendable {
    let settings: Settings
    let database: AppDatabase
    let accounts: AccountService
    let catalog: CatalogService
    let reviews: ReviewService
    let carts: CartService
    let blobs: BlobStore
    let pages: Pages
    let limits: RateLimits
    let clientAddress: ClientAddress
    let cookies: SessionCookies
    let secretKey: SymmetricKey
    let startedAt: Date
    let providers: PaymentProviders
    let checkout: CheckoutService
    let paymentEvents: PaymentEventsService
    let refunds: RefundService
    let orderMessages: OrderMessageService
    let orderLinks: OrderLinks
    let downloadLinks: DownloadLinks
    let licenses: LicenseService
    let library: LibraryService
    let notificationHub: NotificationHub
    let unsubscribeLinks: UnsubscribeLinks
    let webhooks: WebhookEndpointService
    let images: ProductImageService
    /// Writes the store's e-mails (the dashboard previews their templates with it).
    let mail: MailComposer
    /// Product page views, counted in memory and written in batches.
    let productViews: ProductViewCounter
    /// The search API's answers, from each product's JSON as last encoded.
    let searchJSON = SearchJSON()

    /// The largest JSON or form body a route reads.
    var maxBodyBytes: Int { settings.limits.maxJSONBodyKB * 1024 }
}

/*
 * routes: stripe-sim's one route table: Stripe's API under /v1 (secret key, Stripe-Version,
 * idempotency, faults, declared parameters; api.c), the hosted pages a browser opens (/c/pay,
 * /p/session) and the sim's control routes (/_sim), all served by lib/hsrv.
 */
#include "ss.h"

#define LIST "limit starting_after ending_before created"

static const struct ss_route_ext
    r_cust_w = { SS_AUTH_KEY, "email name description phone metadata payment_method "
	"invoice_settings address preferred_locales shipping tax_exempt" },
    r_cust_l = { SS_AUTH_KEY, LIST " email" },
    r_get = { SS_AUTH_KEY, "" },
    r_prod_w = { SS_AUTH_KEY, "name id description metadata active images url type" },
    r_prod_l = { SS_AUTH_KEY, LIST " active ids" },
    r_price_w = { SS_AUTH_KEY, "currency unit_amount unit_amount_decimal product product_data "
	"recurring lookup_key transfer_lookup_key nickname metadata active billing_scheme "
	"tax_behavior" },
    r_price_l = { SS_AUTH_KEY, LIST " active type product lookup_keys currency recurring" },
    r_cs_w = { SS_AUTH_KEY, "mode line_items success_url cancel_url customer customer_email "
	"client_reference_id metadata subscription_data payment_method_types "
	"allow_promotion_codes billing_address_collection locale expires_at ui_mode currency "
	"customer_creation automatic_tax consent_collection phone_number_collection "
	"tax_id_collection payment_method_collection" },
    r_cs_l = { SS_AUTH_KEY, LIST " customer subscription status payment_intent" },
    r_sub_c = { SS_AUTH_KEY, "customer items metadata default_payment_method payment_behavior "
	"collection_method proration_behavior description off_session" },
    r_sub_u = { SS_AUTH_KEY, "cancel_at_period_end items metadata proration_behavior "
	"payment_behavior description default_payment_method" },
    r_sub_d = { SS_AUTH_KEY, "invoice_now prorate cancellation_details" },
    r_sub_l = { SS_AUTH_KEY, LIST " customer status price" },
    r_inv_l = { SS_AUTH_KEY, LIST " customer subscription status" },
    r_bps_w = { SS_AUTH_KEY, "customer return_url configuration flow_data locale on_behalf_of" },
    r_mtr_w = { SS_AUTH_KEY, "display_name event_name default_aggregation customer_mapping "
	"value_settings event_time_window" },
    r_mtr_l = { SS_AUTH_KEY, LIST " status" },
    r_mev_w = { SS_AUTH_KEY, "event_name payload identifier timestamp" },
    r_sum_l = { SS_AUTH_KEY, "limit starting_after ending_before customer start_time end_time "
	"value_grouping_window" },
    r_evt_l = { SS_AUTH_KEY, LIST " type types delivery_success" },
    r_page = { SS_AUTH_NONE, "" },
    r_pay = { SS_AUTH_NONE, "email cardNumber cardExpiry cardCvc billingName" },
    r_portal = { SS_AUTH_NONE, "action subscription price cardNumber" },
    r_clock = { SS_AUTH_NONE, "advance to" },
    r_hook = { SS_AUTH_NONE, "url secret" },
    r_event = { SS_AUTH_NONE, "type object" },
    r_fault = { SS_AUTH_NONE, "kind path method count ms" },
    r_card = { SS_AUTH_NONE, "customer card" },
    r_usage = { SS_AUTH_NONE, "customer meter" };

static const struct hsrv_route ss_routes[] = {
	{ "POST", "/v1/customers", ss_customers_create, &r_cust_w },
	{ "GET", "/v1/customers", ss_customers_list, &r_cust_l },
	{ "GET", "/v1/customers/*", ss_customers_get, &r_get },
	{ "POST", "/v1/customers/*", ss_customers_update, &r_cust_w },
	{ "DELETE", "/v1/customers/*", ss_customers_delete, &r_get },
	{ "GET", "/v1/payment_methods/*", ss_payment_methods_get, &r_get },
	{ "POST", "/v1/products", ss_products_create, &r_prod_w },
	{ "GET", "/v1/products", ss_products_list, &r_prod_l },
	{ "GET", "/v1/products/*", ss_products_get, &r_get },
	{ "POST", "/v1/prices", ss_prices_create, &r_price_w },
	{ "GET", "/v1/prices", ss_prices_list, &r_price_l },
	{ "GET", "/v1/prices/*", ss_prices_get, &r_get },
	{ "POST", "/v1/checkout/sessions", ss_checkout_create, &r_cs_w },
	{ "GET", "/v1/checkout/sessions", ss_checkout_list, &r_cs_l },
	{ "GET", "/v1/checkout/sessions/*", ss_checkout_get, &r_get },
	{ "POST", "/v1/checkout/sessions/*/expire", ss_checkout_expire, &r_get },
	{ "POST", "/v1/subscriptions", ss_subscriptions_create, &r_sub_c },
	{ "GET", "/v1/subscriptions", ss_subscriptions_list, &r_sub_l },
	{ "GET", "/v1/subscriptions/*", ss_subscriptions_get, &r_get },
	{ "POST", "/v1/subscriptions/*", ss_subscriptions_update, &r_sub_u },
	{ "DELETE", "/v1/subscriptions/*", ss_subscriptions_cancel, &r_sub_d },
	{ "GET", "/v1/invoices", ss_invoices_list, &r_inv_l },
	{ "GET", "/v1/invoices/*", ss_invoices_get, &r_get },
	{ "POST", "/v1/billing_portal/sessions", ss_portal_create, &r_bps_w },
	{ "POST", "/v1/billing/meters", ss_meters_create, &r_mtr_w },
	{ "GET", "/v1/billing/meters", ss_meters_list, &r_mtr_l },
	{ "GET", "/v1/billing/meters/*", ss_meters_get, &r_get },
	{ "GET", "/v1/billing/meters/*/event_summaries", ss_meter_summaries, &r_sum_l },
	{ "POST", "/v1/billing/meter_events", ss_meter_events_create, &r_mev_w },
	{ "GET", "/v1/events", ss_events_list, &r_evt_l },
	{ "GET", "/v1/events/*", ss_events_get, &r_get },
	{ "GET", "/c/pay/*", ss_checkout_page, &r_page },
	{ "POST", "/c/pay/*", ss_checkout_pay, &r_pay },
	{ "GET", "/p/session/*", ss_portal_page, &r_page },
	{ "POST", "/p/session/*", ss_portal_action, &r_portal },
	{ "GET", "/_sim/clock", ss_ctl_clock, &r_clock },
	{ "POST", "/_sim/clock", ss_ctl_clock, &r_clock },
	{ "POST", "/_sim/webhook", ss_ctl_webhook, &r_hook },
	{ "POST", "/_sim/event", ss_ctl_event, &r_event },
	{ "GET", "/_sim/deliveries", ss_ctl_deliveries, &r_page },
	{ "GET", "/_sim/fault", ss_ctl_fault, &r_fault },
	{ "POST", "/_sim/fault", ss_ctl_fault, &r_fault },
	{ "DELETE", "/_sim/fault", ss_ctl_fault, &r_fault },
	{ "POST", "/_sim/card", ss_ctl_card, &r_card },
	{ "GET", "/_sim/usage", ss_ctl_usage, &r_usage },
};

static const struct hsrv_conf ss_http = {
	.routes = ss_routes,
	.n_routes = sizeof(ss_routes) / sizeof(ss_routes[0]),
	.admit = ss_api_admit,
	.after = ss_api_after,
	.error = ss_api_error,
	/* Stripe's own request limit is far larger; 1 MiB holds any form this sim reads */
	.max_body = 1 << 20,
};

int
ss_http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
    size_t len)
{
	return hsrv_callback(&ss_http, user, wsi, reason, user, in, len);
}

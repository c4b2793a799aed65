CREATE TABLE `mints` (
	`ticket_id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`event_id` text NOT NULL,
	`order_id` text NOT NULL,
	`state` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_error` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE cascade,
	CONSTRAINT "mints_state_check" CHECK(state in ('queued', 'building', 'submitted', 'confirmed', 'failed'))
);
--> statement-breakpoint
CREATE INDEX `mints_state_idx` ON `mints` (`state`,`updated_at`);--> statement-breakpoint
CREATE INDEX `mints_event_idx` ON `mints` (`tenant_id`,`event_id`);--> statement-breakpoint
CREATE TABLE `orders` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`event_id` text NOT NULL,
	`buyer_id` text NOT NULL,
	`hold_id` text NOT NULL,
	`status` text NOT NULL,
	`currency` text NOT NULL,
	`total_minor` integer NOT NULL,
	`items` text NOT NULL,
	`ticket_count` integer NOT NULL,
	`payment_provider` text NOT NULL,
	`payment_intent_id` text,
	`created_at` integer NOT NULL,
	`expires_at` integer,
	`paid_at` integer,
	`updated_at` integer NOT NULL,
	`rev` integer NOT NULL,
	`refunded_minor` integer DEFAULT 0 NOT NULL,
	`flags` text DEFAULT '[]' NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`tenant_id`,`event_id`) REFERENCES `events`(`tenant_id`,`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "orders_status_check" CHECK(status in ('pending', 'paid', 'expired', 'cancelled', 'refunded', 'partially_refunded')),
	CONSTRAINT "orders_provider_check" CHECK(payment_provider in ('none', 'stripe', 'local')),
	CONSTRAINT "orders_total_check" CHECK("orders"."total_minor" >= 0 and "orders"."ticket_count" >= 1),
	CONSTRAINT "orders_currency_check" CHECK(length("orders"."currency") = 3),
	CONSTRAINT "orders_items_check" CHECK(json_valid("orders"."items")),
	CONSTRAINT "orders_rev_check" CHECK("orders"."rev" >= 1),
	CONSTRAINT "orders_refunded_check" CHECK("orders"."refunded_minor" >= 0 and "orders"."refunded_minor" <= "orders"."total_minor")
);
--> statement-breakpoint
CREATE INDEX `orders_buyer_idx` ON `orders` (`tenant_id`,`buyer_id`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `orders_event_idx` ON `orders` (`tenant_id`,`event_id`,`created_at`,`id`);--> statement-breakpoint
CREATE UNIQUE INDEX `orders_tenant_id_unique` ON `orders` (`tenant_id`,`id`);--> statement-breakpoint
CREATE TABLE `refunds` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`event_id` text NOT NULL,
	`order_id` text NOT NULL,
	`amount_minor` integer NOT NULL,
	`ticket_ids` text NOT NULL,
	`reason` text NOT NULL,
	`status` text NOT NULL,
	`provider_refund_id` text,
	`requested_by` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`tenant_id`,`order_id`) REFERENCES `orders`(`tenant_id`,`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "refunds_status_check" CHECK(status in ('requested', 'succeeded', 'failed', 'not_needed')),
	CONSTRAINT "refunds_amount_check" CHECK("refunds"."amount_minor" >= 0)
);
--> statement-breakpoint
CREATE INDEX `refunds_order_idx` ON `refunds` (`tenant_id`,`order_id`);--> statement-breakpoint
CREATE INDEX `refunds_event_idx` ON `refunds` (`tenant_id`,`event_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `tickets` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`event_id` text NOT NULL,
	`order_id` text NOT NULL,
	`tier_id` text NOT NULL,
	`number` integer NOT NULL,
	`holder_id` text NOT NULL,
	`status` text NOT NULL,
	`code` text,
	`code_version` integer NOT NULL,
	`price_minor` integer NOT NULL,
	`issued_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`rev` integer NOT NULL,
	`checked_in_at` integer,
	`checked_in_gate` text,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`tenant_id`,`event_id`) REFERENCES `events`(`tenant_id`,`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`tenant_id`,`order_id`) REFERENCES `orders`(`tenant_id`,`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "tickets_status_check" CHECK(status in ('valid', 'checked_in', 'refunded', 'cancelled', 'transferred')),
	CONSTRAINT "tickets_number_check" CHECK("tickets"."number" >= 1 and "tickets"."code_version" >= 1 and "tickets"."price_minor" >= 0)
);
--> statement-breakpoint
CREATE INDEX `tickets_holder_idx` ON `tickets` (`tenant_id`,`holder_id`,`issued_at`,`id`);--> statement-breakpoint
CREATE INDEX `tickets_order_idx` ON `tickets` (`tenant_id`,`order_id`);--> statement-breakpoint
CREATE INDEX `tickets_event_idx` ON `tickets` (`tenant_id`,`event_id`,`tier_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `tickets_event_number_unique` ON `tickets` (`tenant_id`,`event_id`,`number`);--> statement-breakpoint
ALTER TABLE `events` ADD `allow_transfers` integer DEFAULT true NOT NULL;
CREATE TABLE `events` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`venue_id` text NOT NULL,
	`slug` text NOT NULL,
	`name` text NOT NULL,
	`description` text,
	`short_description` text,
	`status` text DEFAULT 'DRAFT' NOT NULL,
	`status_reason` text,
	`status_changed_by` text,
	`status_changed_at` integer,
	`visibility` text DEFAULT 'PUBLIC' NOT NULL,
	`is_featured` integer DEFAULT false NOT NULL,
	`priority_score` integer DEFAULT 0 NOT NULL,
	`banner_image_url` text,
	`thumbnail_image_url` text,
	`tags` text DEFAULT '[]' NOT NULL,
	`primary_category_id` text,
	`age_restriction` integer,
	`dress_code` text,
	`cancellation_policy` text,
	`refund_policy` text,
	`meta_title` text,
	`meta_description` text,
	`metadata` text DEFAULT '{}' NOT NULL,
	`timezone` text NOT NULL,
	`starts_at` integer NOT NULL,
	`ends_at` integer NOT NULL,
	`doors_open_at` integer,
	`sales_start_at` integer,
	`sales_end_at` integer,
	`royalty_bps` integer DEFAULT 0 NOT NULL,
	`version` integer DEFAULT 1 NOT NULL,
	`last_change_id` text,
	`created_by` text NOT NULL,
	`updated_by` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`deleted_at` integer,
	FOREIGN KEY (`tenant_id`,`venue_id`) REFERENCES `venues`(`tenant_id`,`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "events_status_check" CHECK(status in ('DRAFT', 'REVIEW', 'APPROVED', 'PUBLISHED', 'ON_SALE', 'SALES_PAUSED', 'SOLD_OUT', 'IN_PROGRESS', 'COMPLETED', 'CANCELLED', 'POSTPONED', 'RESCHEDULED')),
	CONSTRAINT "events_visibility_check" CHECK(visibility in ('PUBLIC', 'UNLISTED', 'PRIVATE')),
	CONSTRAINT "events_name_check" CHECK(length("events"."name") between 1 and 300),
	CONSTRAINT "events_slug_check" CHECK(length("events"."slug") between 1 and 120),
	CONSTRAINT "events_schedule_check" CHECK("events"."ends_at" > "events"."starts_at"),
	CONSTRAINT "events_doors_check" CHECK("events"."doors_open_at" is null or "events"."doors_open_at" <= "events"."starts_at"),
	CONSTRAINT "events_sales_window_check" CHECK("events"."sales_start_at" is null or "events"."sales_end_at" is null or "events"."sales_end_at" > "events"."sales_start_at"),
	CONSTRAINT "events_sales_end_check" CHECK("events"."sales_end_at" is null or "events"."sales_end_at" <= "events"."ends_at"),
	CONSTRAINT "events_royalty_check" CHECK("events"."royalty_bps" between 0 and 10000),
	CONSTRAINT "events_age_check" CHECK("events"."age_restriction" is null or "events"."age_restriction" between 0 and 100),
	CONSTRAINT "events_priority_check" CHECK("events"."priority_score" between 0 and 1000),
	CONSTRAINT "events_version_check" CHECK("events"."version" >= 1),
	CONSTRAINT "events_tags_check" CHECK(json_valid("events"."tags") and json_array_length("events"."tags") <= 20),
	CONSTRAINT "events_metadata_check" CHECK(json_valid("events"."metadata") and length("events"."metadata") <= 8192)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `events_venue_slug_unique` ON `events` (`tenant_id`,`venue_id`,`slug`) WHERE deleted_at is null;--> statement-breakpoint
CREATE INDEX `events_tenant_start_idx` ON `events` (`tenant_id`,`starts_at`,`id`);--> statement-breakpoint
CREATE INDEX `events_status_due_idx` ON `events` (`status`,`sales_start_at`,`starts_at`,`ends_at`);--> statement-breakpoint
CREATE UNIQUE INDEX `events_tenant_id_unique` ON `events` (`tenant_id`,`id`);--> statement-breakpoint
CREATE TABLE `outbox` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`topic` text NOT NULL,
	`body` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_error` text,
	`created_at` integer NOT NULL,
	`sent_at` integer,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE cascade,
	CONSTRAINT "outbox_topic_check" CHECK(topic in ('notifications')),
	CONSTRAINT "outbox_body_check" CHECK(json_valid("outbox"."body"))
);
--> statement-breakpoint
CREATE INDEX `outbox_pending_idx` ON `outbox` (`sent_at`,`created_at`);--> statement-breakpoint
CREATE TABLE `venue_access` (
	`tenant_id` text NOT NULL,
	`venue_id` text NOT NULL,
	`user_id` text NOT NULL,
	`granted_by` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `venue_id`, `user_id`),
	FOREIGN KEY (`tenant_id`,`venue_id`) REFERENCES `venues`(`tenant_id`,`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`tenant_id`,`user_id`) REFERENCES `users`(`tenant_id`,`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `venue_access_user_idx` ON `venue_access` (`tenant_id`,`user_id`);--> statement-breakpoint
CREATE TABLE `venues` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`name` text NOT NULL,
	`address_line1` text NOT NULL,
	`address_line2` text,
	`city` text NOT NULL,
	`region` text,
	`postal_code` text,
	`country` text NOT NULL,
	`timezone` text NOT NULL,
	`capacity` integer NOT NULL,
	`created_by` text NOT NULL,
	`version` integer DEFAULT 1 NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`deleted_at` integer,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE cascade,
	CONSTRAINT "venues_capacity_check" CHECK("venues"."capacity" > 0 and "venues"."capacity" <= 1000000),
	CONSTRAINT "venues_country_check" CHECK(length("venues"."country") = 2 and "venues"."country" = upper("venues"."country")),
	CONSTRAINT "venues_name_check" CHECK(length("venues"."name") between 1 and 200),
	CONSTRAINT "venues_version_check" CHECK("venues"."version" >= 1)
);
--> statement-breakpoint
CREATE INDEX `venues_tenant_idx` ON `venues` (`tenant_id`,`created_at`,`id`);--> statement-breakpoint
CREATE UNIQUE INDEX `venues_tenant_id_unique` ON `venues` (`tenant_id`,`id`);--> statement-breakpoint
DROP INDEX `audit_log_target_idx`;--> statement-breakpoint
CREATE INDEX `audit_log_target_idx` ON `audit_log` (`tenant_id`,`target_type`,`target_id`,`created_at`,`id`);--> statement-breakpoint
ALTER TABLE `tenants` ADD `catalog_version` integer DEFAULT 0 NOT NULL;
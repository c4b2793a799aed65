CREATE TABLE `event_notifications` (
	`outbox_id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`event_id` text NOT NULL,
	`kind` text NOT NULL,
	`to_status` text NOT NULL,
	`recipients` integer NOT NULL,
	`processed_at` integer NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`tenant_id`,`event_id`) REFERENCES `events`(`tenant_id`,`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "event_notifications_kind_check" CHECK(kind in ('event.status_changed')),
	CONSTRAINT "event_notifications_to_status_check" CHECK(to_status in ('DRAFT', 'REVIEW', 'APPROVED', 'PUBLISHED', 'ON_SALE', 'SALES_PAUSED', 'SOLD_OUT', 'IN_PROGRESS', 'COMPLETED', 'CANCELLED', 'POSTPONED', 'RESCHEDULED')),
	CONSTRAINT "event_notifications_recipients_check" CHECK("event_notifications"."recipients" >= 0)
);
--> statement-breakpoint
CREATE INDEX `event_notifications_event_idx` ON `event_notifications` (`tenant_id`,`event_id`,`processed_at`);
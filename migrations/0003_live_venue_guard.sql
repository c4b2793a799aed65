-- An event may only be created at, or moved to, a venue that is not soft-deleted.
-- The API checks this first (usableVenue), but a venue deleted between that check and
-- the insert would otherwise still receive the event: the trigger makes it a rule of the
-- schema. The message is matched by EventsRepo to answer 400 body.venueId.
CREATE TRIGGER `events_require_live_venue_insert`
BEFORE INSERT ON `events`
WHEN (SELECT `deleted_at` FROM `venues` WHERE `tenant_id` = NEW.`tenant_id` AND `id` = NEW.`venue_id`) IS NOT NULL
BEGIN
  SELECT RAISE(ABORT, 'venue is deleted');
END;
--> statement-breakpoint
CREATE TRIGGER `events_require_live_venue_update`
BEFORE UPDATE OF `venue_id` ON `events`
WHEN NEW.`venue_id` <> OLD.`venue_id`
  AND (SELECT `deleted_at` FROM `venues` WHERE `tenant_id` = NEW.`tenant_id` AND `id` = NEW.`venue_id`) IS NOT NULL
BEGIN
  SELECT RAISE(ABORT, 'venue is deleted');
END;

CREATE TABLE `architectures` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`run_id` text NOT NULL,
	`budget_m` real,
	`architecture` text NOT NULL,
	`compact` text NOT NULL,
	`flops_m` real NOT NULL,
	`params` integer NOT NULL,
	`accuracy` real,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`run_id`) REFERENCES `runs`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `architectures_run_idx` ON `architectures` (`run_id`);--> statement-breakpoint
CREATE TABLE `artifacts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`run_id` text NOT NULL,
	`kind` text NOT NULL,
	`path` text NOT NULL,
	`sha256` text NOT NULL,
	`bytes` integer NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`run_id`) REFERENCES `runs`(`id`) ON UPDATE no action ON DELETE cascade,
	CONSTRAINT "artifacts_kind_check" CHECK("artifacts"."kind" IN ('checkpoint','export','results','log'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `artifacts_path_uq` ON `artifacts` (`run_id`,`path`);--> statement-breakpoint
CREATE TABLE `metrics` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`run_id` text NOT NULL,
	`stage` text NOT NULL,
	`epoch` integer NOT NULL,
	`step` integer NOT NULL,
	`name` text NOT NULL,
	`value` real NOT NULL,
	`at` integer NOT NULL,
	FOREIGN KEY (`run_id`) REFERENCES `runs`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `metrics_point_uq` ON `metrics` (`run_id`,`stage`,`epoch`,`step`,`name`);--> statement-breakpoint
CREATE TABLE `runs` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`name` text NOT NULL,
	`status` text DEFAULT 'queued' NOT NULL,
	`error` text,
	`config` text NOT NULL,
	`seed` integer,
	`backend` text,
	`library_versions` text DEFAULT '{}' NOT NULL,
	`created_at` integer NOT NULL,
	`started_at` integer,
	`ended_at` integer,
	`pid` integer,
	`hostname` text,
	`heartbeat_at` integer,
	`progress` real DEFAULT 0 NOT NULL,
	`stage` text,
	`cancel_requested` integer DEFAULT false NOT NULL,
	`parent_run_id` text,
	FOREIGN KEY (`parent_run_id`) REFERENCES `runs`(`id`) ON UPDATE no action ON DELETE set null,
	CONSTRAINT "runs_status_check" CHECK("runs"."status" IN ('queued','running','completed','failed','cancelled','interrupted')),
	CONSTRAINT "runs_progress_check" CHECK("runs"."progress" >= 0 AND "runs"."progress" <= 1)
);
--> statement-breakpoint
CREATE INDEX `runs_status_idx` ON `runs` (`status`);--> statement-breakpoint
CREATE INDEX `runs_created_at_idx` ON `runs` (`created_at`);--> statement-breakpoint
CREATE INDEX `runs_parent_idx` ON `runs` (`parent_run_id`);--> statement-breakpoint
CREATE TABLE `sweeps` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`run_id` text NOT NULL,
	`tau` real NOT NULL,
	`tau_p` real,
	`pearson` real NOT NULL,
	`pearson_p` real,
	`n` integer NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`run_id`) REFERENCES `runs`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `sweeps_run_idx` ON `sweeps` (`run_id`);
-- V1: the version of the program definition each application applied under (NULL: selected before versions).
ALTER TABLE selections ADD COLUMN program_version int;
ALTER TABLE agreements ADD COLUMN program_version int;

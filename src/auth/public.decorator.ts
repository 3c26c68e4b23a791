import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'loa:isPublic';

/** Marks a route that needs no bearer token (login, health). */
export const Public = () => SetMetadata(IS_PUBLIC, true);

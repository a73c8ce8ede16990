/**
 * The same blog pages written with three real ORMs (Sequelize, TypeORM, Objection/Knex), lazily and eagerly,
 * for the n-plus-one integration test. Each ORM sends its own SQL; pg_stat_statements records what it sent.
 * Schema: authors 200, posts 2k (author_id → authors), tags 50, post_tags (post_id → posts, tag_id → tags).
 */
import knexFactory, { type Knex } from 'knex';
import { Model as ObjectionModel } from 'objection';
import { DataTypes, Model as SequelizeModel, Sequelize, type ModelStatic } from 'sequelize';
import { DataSource, EntitySchema } from 'typeorm';

export const BLOG_SCHEMA_SQL = `
  create table authors (id int primary key, name text not null);
  create table posts (id int primary key, title text not null, score int not null, author_id int not null references authors(id));
  create table tags (id int primary key, name text not null);
  create table post_tags (post_id int not null references posts(id), tag_id int not null references tags(id), primary key (post_id, tag_id));
  create index on posts (author_id);
  create index on post_tags (tag_id);
  insert into authors select g, 'author ' || g from generate_series(1, 200) g;
  insert into posts select g, 'post ' || g, (g * 7919) % 1000, 1 + g % 200 from generate_series(1, 2000) g;
  insert into tags select g, 'tag ' || g from generate_series(1, 50) g;
  insert into post_tags select p, 1 + (p * k) % 50 from generate_series(1, 2000) p, generate_series(1, 3) k on conflict do nothing;
  analyze authors; analyze posts; analyze tags; analyze post_tags;`;

/** Posts per page. */
export const PAGE_SIZE = 20;
export const AUTHOR_COUNT = 200;

export interface BlogPages {
  readonly orm: string;
  /** Newest posts; then each post's author and tags, one statement per post (the ORM's lazy loading). */
  lazyPage(page: number): Promise<number>;
  /** Highest-scored posts with author and tags loaded eagerly (join or batched IN list, as the ORM does it). */
  eagerPage(page: number): Promise<number>;
  /**
   * The lazy page's own list with author and tags loaded eagerly in batches, when the ORM sends that list as a
   * statement of its own (so both pages share one list statement); absent when its eager loading joins.
   */
  readonly eagerSameList?: (page: number) => Promise<number>;
  /** One author by primary key (a hot independent lookup: profile badges, auth). */
  authorById(id: number): Promise<void>;
  close(): Promise<void>;
}

const offsetOf = (page: number): number => (page * PAGE_SIZE) % 1900;

export async function sequelizePages(url: string): Promise<BlogPages> {
  const sequelize = new Sequelize(url, { logging: false, pool: { max: 3 } });
  class Author extends SequelizeModel {}
  class Tag extends SequelizeModel {}
  class Post extends SequelizeModel {
    declare getAuthor: () => Promise<Author>;
    declare getTags: () => Promise<Tag[]>;
  }
  const common = { sequelize, timestamps: false, underscored: true };
  Author.init({ id: { type: DataTypes.INTEGER, primaryKey: true }, name: DataTypes.TEXT }, { ...common, tableName: 'authors' });
  Tag.init({ id: { type: DataTypes.INTEGER, primaryKey: true }, name: DataTypes.TEXT }, { ...common, tableName: 'tags' });
  Post.init({ id: { type: DataTypes.INTEGER, primaryKey: true }, title: DataTypes.TEXT, score: DataTypes.INTEGER }, { ...common, tableName: 'posts' });
  Post.belongsTo(Author, { foreignKey: 'author_id', as: 'author' });
  Post.belongsToMany(Tag, { through: 'post_tags', foreignKey: 'post_id', otherKey: 'tag_id', as: 'tags', timestamps: false });
  return {
    orm: 'sequelize',
    async lazyPage(page) {
      const posts = (await Post.findAll({ order: [['id', 'DESC']], limit: PAGE_SIZE, offset: offsetOf(page) })) as Post[];
      for (const p of posts) {
        await p.getAuthor();
        await p.getTags();
      }
      return posts.length;
    },
    async eagerPage(page) {
      const posts = await Post.findAll({
        order: [['score', 'DESC']],
        limit: PAGE_SIZE,
        offset: offsetOf(page),
        include: [
          { model: Author, as: 'author' },
          { model: Tag as ModelStatic<Tag>, as: 'tags' },
        ],
      });
      return posts.length;
    },
    async authorById(id) {
      await Author.findByPk(id);
    },
    close: () => sequelize.close(),
  };
}

interface AuthorRow {
  id: number;
  name: string;
}
interface TagRow {
  id: number;
  name: string;
}
interface PostRow {
  id: number;
  title: string;
  score: number;
  author: Promise<AuthorRow>;
  tags: Promise<TagRow[]>;
}

export async function typeormPages(url: string): Promise<BlogPages> {
  const AuthorEntity = new EntitySchema<AuthorRow>({
    name: 'Author',
    tableName: 'authors',
    columns: { id: { type: 'int', primary: true }, name: { type: 'text' } },
  });
  const TagEntity = new EntitySchema<TagRow>({
    name: 'Tag',
    tableName: 'tags',
    columns: { id: { type: 'int', primary: true }, name: { type: 'text' } },
  });
  const PostEntity = new EntitySchema<PostRow>({
    name: 'Post',
    tableName: 'posts',
    columns: { id: { type: 'int', primary: true }, title: { type: 'text' }, score: { type: 'int' } },
    relations: {
      author: { type: 'many-to-one', target: 'Author', lazy: true, joinColumn: { name: 'author_id' } },
      tags: {
        type: 'many-to-many',
        target: 'Tag',
        lazy: true,
        joinTable: { name: 'post_tags', joinColumn: { name: 'post_id' }, inverseJoinColumn: { name: 'tag_id' } },
      },
    },
  });
  const source = new DataSource({ type: 'postgres', url, entities: [AuthorEntity, TagEntity, PostEntity], logging: false, poolSize: 3 });
  await source.initialize();
  const posts = source.getRepository(PostEntity);
  return {
    orm: 'typeorm',
    async lazyPage(page) {
      const list = await posts.find({ order: { id: 'DESC' }, take: PAGE_SIZE, skip: offsetOf(page) });
      for (const p of list) {
        await p.author;
        await p.tags;
      }
      return list.length;
    },
    async eagerPage(page) {
      const list = await posts.find({ order: { score: 'DESC' }, take: PAGE_SIZE, skip: offsetOf(page), relations: { author: true, tags: true } });
      return list.length;
    },
    async eagerSameList(page) {
      const list = await posts.find({
        order: { id: 'DESC' },
        take: PAGE_SIZE,
        skip: offsetOf(page),
        relations: { author: true, tags: true },
        relationLoadStrategy: 'query',
      });
      return list.length;
    },
    async authorById(id) {
      await source.getRepository(AuthorEntity).findOneBy({ id });
    },
    close: () => source.destroy(),
  };
}

export async function objectionPages(url: string): Promise<BlogPages> {
  const knex: Knex = knexFactory({ client: 'pg', connection: url, pool: { min: 0, max: 3 } });
  class Author extends ObjectionModel {
    static override tableName = 'authors';
  }
  class Tag extends ObjectionModel {
    static override tableName = 'tags';
  }
  class Post extends ObjectionModel {
    static override tableName = 'posts';
    static override relationMappings = () => ({
      author: { relation: ObjectionModel.BelongsToOneRelation, modelClass: Author, join: { from: 'posts.author_id', to: 'authors.id' } },
      tags: {
        relation: ObjectionModel.ManyToManyRelation,
        modelClass: Tag,
        join: { from: 'posts.id', through: { from: 'post_tags.post_id', to: 'post_tags.tag_id' }, to: 'tags.id' },
      },
    });
  }
  const bound = { Author: Author.bindKnex(knex), Post: Post.bindKnex(knex) };
  return {
    orm: 'objection',
    async lazyPage(page) {
      const list = await bound.Post.query().orderBy('id', 'desc').limit(PAGE_SIZE).offset(offsetOf(page));
      for (const p of list) {
        await p.$relatedQuery('author');
        await p.$relatedQuery('tags');
      }
      return list.length;
    },
    async eagerPage(page) {
      const list = await bound.Post.query().orderBy('score', 'desc').limit(PAGE_SIZE).offset(offsetOf(page)).withGraphFetched('[author, tags]');
      return list.length;
    },
    async eagerSameList(page) {
      const list = await bound.Post.query().orderBy('id', 'desc').limit(PAGE_SIZE).offset(offsetOf(page)).withGraphFetched('[author, tags]');
      return list.length;
    },
    async authorById(id) {
      await bound.Author.query().findById(id);
    },
    close: () => knex.destroy(),
  };
}

export const ORMS = { sequelize: sequelizePages, typeorm: typeormPages, objection: objectionPages } as const;

/** ORMs whose eager loading can send the lazy page's list as a statement of its own (Sequelize joins instead). */
export const SHARED_LIST_ORMS = ['typeorm', 'objection'] as const;
